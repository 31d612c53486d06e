package io.keyward.vault;

import io.keyward.rotation.Retrier;
import java.net.URI;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/** Everything needed to reach and log in to Vault. */
public record VaultSettings(
        URI address,
        Optional<String> namespace,
        VaultAuth auth,
        TlsSettings tls,
        Duration connectTimeout,
        Duration requestTimeout,
        Retrier.Backoff retry,
        int maxConnections) {

    /** Connections to Vault open at one moment at the most, unless {@code vault.max_connections} says otherwise. */
    public static final int DEFAULT_MAX_CONNECTIONS = 8;

    public VaultSettings {
        Objects.requireNonNull(address, "address");
        String scheme = address.getScheme();
        boolean unix = "unix".equals(scheme) && address.getPath() != null && address.getPath().startsWith("/");
        if (!unix && (!"http".equals(scheme) && !"https".equals(scheme) || address.getHost() == null)) {
            throw new IllegalArgumentException("Vault address '" + address + "' must be http(s)://host[:port] or unix:///path");
        }
        String a = address.toString();
        if (a.endsWith("/")) address = URI.create(a.substring(0, a.length() - 1));
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(auth, "auth");
        Objects.requireNonNull(tls, "tls");
        requirePositive(connectTimeout, "connect timeout");
        requirePositive(requestTimeout, "request timeout");
        Objects.requireNonNull(retry, "retry");
        if (maxConnections < 1) throw new IllegalArgumentException("max_connections must be 1 or more");
    }

    /** Sensible defaults around an address and an auth method. */
    public static VaultSettings of(URI address, VaultAuth auth) {
        return new VaultSettings(address, Optional.empty(), auth, TlsSettings.defaults(),
                Duration.ofSeconds(5), Duration.ofSeconds(30),
                Retrier.Backoff.of(io.keyward.policy.Backoffs.VAULT), DEFAULT_MAX_CONNECTIONS);
    }

    public VaultSettings withRetry(Retrier.Backoff backoff) {
        return new VaultSettings(address, namespace, auth, tls, connectTimeout, requestTimeout, backoff, maxConnections);
    }

    public VaultSettings withNamespace(String ns) {
        return new VaultSettings(address, Optional.ofNullable(ns), auth, tls, connectTimeout, requestTimeout, retry, maxConnections);
    }

    public VaultSettings withTls(TlsSettings t) {
        return new VaultSettings(address, namespace, auth, t, connectTimeout, requestTimeout, retry, maxConnections);
    }

    public VaultSettings withTimeouts(Duration connect, Duration request) {
        return new VaultSettings(address, namespace, auth, tls, connect, request, retry, maxConnections);
    }

    public VaultSettings withMaxConnections(int n) {
        return new VaultSettings(address, namespace, auth, tls, connectTimeout, requestTimeout, retry, n);
    }

    private static void requirePositive(Duration d, String what) {
        if (d == null || d.isZero() || d.isNegative()) {
            throw new IllegalArgumentException(what + " must be positive");
        }
    }
}
