package io.keyward.daemon;

import io.keyward.policy.ConfigException;
import io.keyward.rotation.SecretPath;
import io.keyward.vault.VaultSettings;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

/** The agent's own settings: who it is, how it reaches Vault, where it keeps state and audit. */
public record AgentConfig(Path source, String agentId, VaultSettings vault, SecretPath state, Path stateDir, Audit audit,
                          Path policy, java.time.Duration lease, int threads,
                          java.util.Optional<java.net.InetSocketAddress> metrics, Fleet fleet) {

    /** Rotations the daemon runs at once. */
    public static final int DEFAULT_THREADS = 4;
    /** Where the daemon serves /metrics, /healthz and /readyz unless told otherwise. */
    public static final java.net.InetSocketAddress DEFAULT_METRICS =
            java.net.InetSocketAddress.createUnresolved("127.0.0.1", 9464);

    public AgentConfig {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(agentId, "agentId");
        Objects.requireNonNull(vault, "vault");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(audit, "audit");
        Objects.requireNonNull(policy, "policy");
        Objects.requireNonNull(lease, "lease");
        Objects.requireNonNull(metrics, "metrics");
        Objects.requireNonNull(stateDir, "stateDir");
        Objects.requireNonNull(fleet, "fleet");
    }

    /** Where this agent keeps what it delivered (its ledger) unless told otherwise. */
    public static final Path DEFAULT_STATE_DIR = Path.of("/var/lib/keyward");

    /** How often `keyward run` renews its membership record, and when a silent member stops counting. */
    public record Fleet(java.time.Duration heartbeat, java.time.Duration memberTimeout) {
        public static final Fleet DEFAULT = new Fleet(java.time.Duration.ofSeconds(30), java.time.Duration.ofMinutes(15));
    }

    public java.time.Duration memberTimeout() {
        return fleet.memberTimeout();
    }

    /**
     * Where audit lines go and where the key for their fingerprints lives: a local file, or a Vault
     * field shared by every agent ({@code hmacKey}) so that fingerprints agree across hosts.
     */
    public record Audit(Path file, Path hmacKeyFile, io.keyward.audit.JsonAuditLog.Rolling rolling,
                        java.util.Optional<SecretPath> hmacKey, String hmacKeyField) {
        public Audit {
            Objects.requireNonNull(file, "file");
            Objects.requireNonNull(hmacKeyFile, "hmacKeyFile");
            Objects.requireNonNull(rolling, "rolling");
            Objects.requireNonNull(hmacKey, "hmacKey");
        }

        public Audit(Path file, Path hmacKeyFile, io.keyward.audit.JsonAuditLog.Rolling rolling) {
            this(file, hmacKeyFile, rolling, java.util.Optional.empty(), "key");
        }
    }

    /**
     * Loads {@code file}. {@code env} supplies VAULT_ADDR, VAULT_TOKEN, VAULT_CACERT and
     * VAULT_NAMESPACE where the file leaves them out, and ${NAME} in file paths.
     */
    public static AgentConfig load(Path file, Map<String, String> env, String hostName) throws ConfigException {
        return new AgentConfigReader(env, hostName).read(file);
    }
}
