package io.keyward.vault;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * TLS towards Vault. Verification is on unless {@code skipVerify} is spelled out; a CA bundle
 * (PEM), a client certificate with its key (PEM) and the name to ask for and verify (SNI, when
 * the address is an IP or a load balancer's name the certificate does not carry) are optional.
 */
public record TlsSettings(Optional<Path> caFile, Optional<Path> clientCertFile, Optional<Path> clientKeyFile,
                          boolean skipVerify, Optional<String> serverName) {

    public TlsSettings(Optional<Path> caFile, Optional<Path> clientCertFile, Optional<Path> clientKeyFile, boolean skipVerify) {
        this(caFile, clientCertFile, clientKeyFile, skipVerify, Optional.empty());
    }

    public TlsSettings {
        Objects.requireNonNull(serverName, "serverName");
        Objects.requireNonNull(caFile, "caFile");
        Objects.requireNonNull(clientCertFile, "clientCertFile");
        Objects.requireNonNull(clientKeyFile, "clientKeyFile");
        if (clientCertFile.isPresent() != clientKeyFile.isPresent()) {
            throw new IllegalArgumentException("a client certificate needs both client_cert_file and client_key_file");
        }
    }

    public static TlsSettings defaults() {
        return new TlsSettings(Optional.empty(), Optional.empty(), Optional.empty(), false);
    }
}
