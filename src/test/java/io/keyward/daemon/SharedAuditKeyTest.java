package io.keyward.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyward.policy.Policy;
import io.keyward.rotation.Plugins;
import io.keyward.rotation.SecretData;
import io.keyward.rotation.SecretPath;
import io.keyward.testing.Leaks;
import io.keyward.testing.TestDirs;
import io.keyward.testing.TestVault;
import io.keyward.testing.VaultExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import tools.jackson.databind.json.JsonMapper;

/** With audit.hmac_key every agent fingerprints with one key from Vault, created by the first: fingerprints agree across hosts. */
@ExtendWith(VaultExtension.class)
final class SharedAuditKeyTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Test
    void agentsSharingTheKeyInVault_fingerprintOneValueAlike_aLocalKeyDoesNot(TestVault vault) throws Exception {
        Path dir = TestDirs.fresh("shared-key");
        Path keys = TestDirs.credentials("shared-key");
        SecretPath keyPath = vault.uniquePath("audit-key");
        SecretPath secret = vault.uniquePath("value");
        Policy policy = Policy.parse("p.yaml", "secrets:\n  - { id: s, path: " + secret.path()
                + ", generator: { type: random }, schedule: { every: 30d } }\n");
        Map<String, String> env = Map.of("VAULT_ADDR", vault.address().toString(), "VAULT_TOKEN", vault.rootToken());
        String shared = "  hmac_key: { path: " + keyPath.path() + " }";

        List<String> fingerprints = new java.util.ArrayList<>();
        for (String host : List.of("one", "two", "local")) {
            Path config = Files.writeString(dir.resolve(host + ".yaml"), String.join("\n",
                    "agent: { id: " + host + " }",
                    "state: { dir: " + dir.resolve("state-" + host) + " }",
                    "audit:",
                    "  file: " + dir.resolve(host + ".jsonl"),
                    "  hmac_key_file: " + keys.resolve(host + ".key"),
                    host.equals("local") ? "" : shared, ""));
            try (Agent agent = Agent.start(AgentConfig.load(config, env, host), policy, Clock.systemUTC(),
                    Plugins.PhaseListener.none(), env)) {
                if (host.equals("one")) {
                    agent.vault().write(secret, SecretData.of("password", Leaks.secret("pw")), OptionalInt.empty());
                }
                agent.vault().read(secret);
            }
            String line = Files.readAllLines(dir.resolve(host + ".jsonl")).stream()
                    .filter(l -> l.contains("\"vault.read\"") && l.contains(secret.toString())).reduce((a, b) -> b).orElseThrow();
            fingerprints.add(JSON.readTree(line).path("fingerprint").asString());
        }
        Leaks.track(vault.admin("GET", keyPath.mount() + "/data/" + keyPath.path(), null).path("data").path("data")
                .path("key").asString());

        assertThat(fingerprints.get(0)).startsWith("hmac-sha256:").isEqualTo(fingerprints.get(1));
        assertThat(fingerprints.get(2)).isNotEqualTo(fingerprints.get(0));
        assertThat(keys.resolve("one.key")).as("no local key when it comes from Vault").doesNotExist();
    }
}
