package io.keyward.daemon;

import io.keyward.policy.ConfigException;
import io.keyward.rotation.SecretPath;
import io.keyward.vault.VaultSettings;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

/** The agent's own settings: who it is, how it reaches Vault, where it keeps state and audit. */
public record AgentConfig(Path source, String agentId, VaultSettings vault, SecretPath state, Audit audit, Path policy,
                          java.time.Duration lease) {

    public AgentConfig {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(agentId, "agentId");
        Objects.requireNonNull(vault, "vault");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(audit, "audit");
        Objects.requireNonNull(policy, "policy");
        Objects.requireNonNull(lease, "lease");
    }

    /** Where audit lines go and where the key for their fingerprints lives. */
    public record Audit(Path file, Path hmacKeyFile) {
        public Audit {
            Objects.requireNonNull(file, "file");
            Objects.requireNonNull(hmacKeyFile, "hmacKeyFile");
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
