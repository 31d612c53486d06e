package io.keyward.vault;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/** How keyward logs in to Vault. Secret material is only ever named by file, or masked. */
public sealed interface VaultAuth {

    /** A short name for logs and messages ("token", "approle", ...). */
    String method();

    /**
     * A token given directly (from config or {@code VAULT_TOKEN}) or read from a file; the file
     * wins and is read again on every re-login, so another process may refresh it.
     */
    record Token(Optional<String> token, Optional<Path> file) implements VaultAuth {
        public Token {
            Objects.requireNonNull(token, "token");
            Objects.requireNonNull(file, "file");
            if (token.isEmpty() && file.isEmpty()) {
                throw new IllegalArgumentException("token auth needs a token or a token file");
            }
        }

        @Override
        public String method() {
            return "token";
        }

        @Override
        public String toString() {
            return "Token[" + file.map(f -> "file=" + f).orElse("token=(hidden)") + "]";
        }
    }

    /** AppRole: role_id and secret_id are read from files (the secret_id typically via systemd LoadCredential). */
    record AppRole(String mount, Path roleIdFile, Path secretIdFile) implements VaultAuth {
        public AppRole {
            mount = mountOrDefault(mount, "approle");
            Objects.requireNonNull(roleIdFile, "role_id_file");
            Objects.requireNonNull(secretIdFile, "secret_id_file");
        }

        @Override
        public String method() {
            return "approle";
        }
    }

    /** Kubernetes: the pod's service-account JWT, read from a file, exchanged for a token of {@code role}. */
    record Kubernetes(String mount, String role, Path jwtFile) implements VaultAuth {
        public Kubernetes {
            mount = mountOrDefault(mount, "kubernetes");
            if (role == null || role.isBlank()) throw new IllegalArgumentException("kubernetes auth needs a role");
            Objects.requireNonNull(jwtFile, "jwt_file");
        }

        @Override
        public String method() {
            return "kubernetes";
        }
    }

    /**
     * JWT: a token from an identity provider (a Kubernetes projected service-account token, a CI
     * job's or a cloud workload's identity token), read from its file at every login, exchanged
     * for a token of {@code role} on a {@code jwt} auth mount.
     */
    record Jwt(String mount, String role, Path jwtFile) implements VaultAuth {
        public Jwt {
            mount = mountOrDefault(mount, "jwt");
            if (role == null || role.isBlank()) throw new IllegalArgumentException("jwt auth needs a role");
            Objects.requireNonNull(jwtFile, "jwt_file");
        }

        @Override
        public String method() {
            return "jwt";
        }
    }

    /** TLS certificate: the client certificate configured under TLS is the credential. */
    record Cert(String mount) implements VaultAuth {
        public Cert {
            mount = mountOrDefault(mount, "cert");
        }

        @Override
        public String method() {
            return "cert";
        }
    }

    private static String mountOrDefault(String mount, String fallback) {
        if (mount == null || mount.isBlank()) return fallback;
        String m = mount.strip();
        while (m.startsWith("/")) m = m.substring(1);
        while (m.endsWith("/")) m = m.substring(0, m.length() - 1);
        return m;
    }
}
