package io.keyward.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyward.docbits.DocBitsSimulator;
import io.keyward.policy.Policy;
import io.keyward.rotation.Outcome;
import io.keyward.rotation.Phase;
import io.keyward.rotation.SecretBinding;
import io.keyward.rotation.SecretData;
import io.keyward.rotation.SecretPath;
import io.keyward.testing.Leaks;
import io.keyward.testing.TestDirs;
import io.keyward.testing.TestVault;
import io.keyward.testing.VaultExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * DocBits as a consumer: the fully wired agent sends each new value to the endpoint of a
 * {@code docbits} target (an integration's credential) with the key and organisation the policy
 * names, and a refused call keeps the rotation from completing. Real OpenBao, the DocBits simulator.
 */
@ExtendWith(VaultExtension.class)
final class DocBitsTargetTest {

    @Test
    void eachNewValueReachesTheIntegration_withTheNamedKeyAndOrg_andARefusalStopsTheRotation(TestVault vault)
            throws Exception {
        Path dir = TestDirs.fresh("docbits-target");
        Path secrets = TestDirs.credentials("docbits-target");
        try (DocBitsSimulator sim = DocBitsSimulator.start(0, Clock.systemUTC())) {
            String adminKey = Leaks.track(sim.createKey("keyward-admin", Set.of("acme")));
            SecretPath admin = vault.uniquePath("docbits-admin");
            Path policy = Files.writeString(dir.resolve("policy.yaml"), String.join("\n",
                    "defaults: { attempts: 1 }",
                    "secrets:",
                    "  - id: erp-password",
                    "    path: " + vault.uniqueName("apps") + "/erp",
                    "    fields: [password]",
                    "    generator: { type: random, length: 32 }",
                    "    schedule: { every: 30d }",
                    "    grace: 0s",
                    "    watch: off",
                    "    targets:",
                    "      - id: erp-integration",
                    "        type: docbits",
                    "        base_url: \"" + sim.baseUrl() + "\"",
                    "        org: acme",
                    "        auth: { path: " + admin.path() + " }",
                    "        endpoint: { method: PUT, path: /integrations/erp, body: '{\"api_key\": \"{key}\", \"ref\": \"{secret_id}\"}' }",
                    ""));
            Path config = vault.agentConfig(dir, "docbits-target", policy, secrets);
            Map<String, String> env = Map.of("VAULT_TOKEN", vault.rootToken());
            try (Agent agent = Agent.start(AgentConfig.load(config, env, "docbits-host"), Policy.load(policy), Clock.systemUTC(),
                    io.keyward.rotation.Plugins.PhaseListener.none(), env)) {
                agent.vault().write(admin, SecretData.of("api_key", adminKey), OptionalInt.empty());
                SecretBinding b = agent.binding("erp-password");

                for (int version = 1; version <= 2; version++) {
                    assertThat(agent.rotator().rotate(b, true, false, "test")).isInstanceOf(Outcome.Completed.class);
                    String live = Leaks.track(agent.vault().read(b.livePath()).orElseThrow().data().string("password").orElseThrow());
                    assertThat(sim.integrationKey("erp")).as("v" + version + " reached the integration").contains(live);
                }
                assertThat(sim.requests()).filteredOn(r -> r.path().equals("/integrations/erp")).hasSize(2).allSatisfy(r -> {
                    assertThat(r.method()).isEqualTo("PUT");
                    assertThat(r.keyHash()).isEqualTo(DocBitsSimulator.keyHash(adminKey));
                    assertThat(r.org()).isEqualTo("acme");
                    assertThat(r.status()).isEqualTo(200);
                });
                String held = sim.integrationKey("erp").orElseThrow();

                sim.revoke(adminKey); // the key keyward calls DocBits with no longer works
                Outcome refused = agent.rotator().rotate(b, true, false, "test");
                assertThat(refused).isNotInstanceOf(Outcome.Completed.class);
                assertThat(refused.describe()).contains("erp-integration").contains("401").doesNotContain(held);
                assertThat(sim.integrationKey("erp")).as("the integration keeps the value it had").contains(held);
                assertThat(refused.describe()).contains("delivery failing, old value kept valid");
                assertThat(agent.rotator().journal(b.id()).orElseThrow().entry().phase()).isEqualTo(Phase.PROMOTED);
                String next = Leaks.track(agent.vault().read(b.livePath()).orElseThrow().data().string("password").orElseThrow());

                // The operator gives keyward a working key; the rotation left in flight then completes.
                agent.vault().write(admin, SecretData.of("api_key", Leaks.track(sim.createKey("keyward-admin-2", Set.of("acme")))),
                        OptionalInt.empty());
                assertThat(agent.rotator().rotate(b, false, false, "test")).isInstanceOf(Outcome.Completed.class);
                assertThat(sim.integrationKey("erp")).contains(next);
            }
        }
    }
}
