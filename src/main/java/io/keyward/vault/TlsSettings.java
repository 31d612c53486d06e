package io.keyward.vault;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * TLS towards Vault. Verification is on unless {@code skipVerify} is spelled out; a CA bundle
 * (PEM) and a client certificate with its key (PEM) are optional.
 */
public record TlsSettings(Optional<Path> caFile, Optional<Path> clientCertFile, Optional<Path> clientKeyFile,
                          boolean skipVerify) {

    public TlsSettings {
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
