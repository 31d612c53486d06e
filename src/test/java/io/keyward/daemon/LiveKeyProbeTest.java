package io.keyward.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyward.docbits.DocBitsSimulator;
import io.keyward.rotation.SecretData;
import io.keyward.rotation.SecretPath;
import io.keyward.testing.KeywardProcess;
import io.keyward.testing.Leaks;
import io.keyward.testing.Scrape;
import io.keyward.testing.TestDirs;
import io.keyward.testing.TestPorts;
import io.keyward.testing.TestVault;
import io.keyward.testing.VaultExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A DocBits key regenerated in DocBits' settings (the old one refused at once) while {@code
 * keyward run} serves it: within one {@code probe_every} the live-key probe raises a {@code dead}
 * notice and {@code keyward_docbits_key_valid} drops to 0; once the new key is in Vault, the probe
 * takes it and the gauge is 1 again. Real OpenBao, the DocBits simulator, a real process.
 */
@ExtendWith(VaultExtension.class)
final class LiveKeyProbeTest {

    @Test
    void aRegeneratedKey_isNoticedDeadWithinOneProbe_andLiveAgainOnceTheNewOneIsInVault(TestVault vault) throws Exception {
        String run = vault.uniqueName("probe");
        Path work = TestDirs.credentials(run);
        Path logs = TestDirs.fresh(run);
        int port = TestPorts.free();
        try (DocBitsSimulator sim = DocBitsSimulator.start(0, Clock.systemUTC())) {
            SecretPath admin = vault.uniquePath("docbits-admin");
            vault.admin("POST", "secret/data/" + admin.path(), "{\"data\":{\"api_key\":\""
                    + Leaks.track(sim.createKey("keyward-admin", Set.of("acme"))) + "\"}}");
            String livePath = run + "/docbits-key";
            Path policy = policy(work, sim, admin, livePath, "1s", "");
            Path config = vault.serviceConfig(work, logs, run, policy, port);
            try (KeywardProcess keyward = new KeywardProcess("keyward", config, logs, Map.of("VAULT_TOKEN", vault.rootToken()))) {
                keyward.start();
                keyward.awaitReady(60);
                keyward.awaitFile(work.resolve("docbits-key"), 60);
                Scrape.awaitLine(port, "keyward_docbits_key_valid{secret=\"docbits-key\"} 1.0");
                String live = Leaks.track(Files.readString(work.resolve("docbits-key")));

                // A person presses Regenerate in DocBits' settings: the live key dies at once.
                long regenerated = System.nanoTime();
                String fresh = Leaks.track(sim.regenerate(live).orElseThrow());
                assertThat(sim.accepts(live, "acme")).isFalse();
                Scrape.awaitLine(port, "keyward_docbits_key_valid{secret=\"docbits-key\"} 0.0");
                Duration noticed = Duration.ofNanos(System.nanoTime() - regenerated);
                assertThat(Scrape.awaitLine(port, "keyward_notices_total{kind=\"dead\"} 1.0")).isNotNull();
                assertThat(keyward.log()).contains("dead docbits-key v1: the live DocBits key for docbits-key is refused "
                        + "(regenerated or revoked in DocBits' settings?); paste the new one: keyward submit docbits-key");
                Files.writeString(logs.resolve("noticed.txt"), "dead noticed " + noticed.toMillis() + " ms after the regenerate\n");

                // The new key reaches Vault (here written by hand): the probe takes it, and says so once.
                vault.admin("POST", "secret/data/" + livePath, "{\"data\":{\"api_key\":\"" + fresh + "\"}}");
                Scrape.awaitLine(port, "keyward_docbits_key_valid{secret=\"docbits-key\"} 1.0");
                assertThat(Scrape.awaitLine(port, "keyward_notices_total{kind=\"dead\"} 1.0")).as("announced once").isNotNull();
                assertThat(keyward.log()).doesNotContain(live).doesNotContain(fresh);
            }
        }
    }

    /**
     * A consumer's health check that answers 401 after a delivery has its live key tried at once,
     * not at the next {@code probe_every} (an hour here): a key written to Vault by hand that DocBits
     * refuses is announced dead within seconds.
     */
    @Test
    void aConsumersRefusedKey_isProbedAtOnce_notAtTheNextProbe(TestVault vault) throws Exception {
        String run = vault.uniqueName("probe-401");
        Path work = TestDirs.credentials(run);
        Path logs = TestDirs.fresh(run);
        int port = TestPorts.free();
        try (DocBitsSimulator sim = DocBitsSimulator.start(0, Clock.systemUTC());
             io.keyward.testing.Receiver consumer = io.keyward.testing.Receiver.start(null)) {
            SecretPath admin = vault.uniquePath("docbits-admin");
            vault.admin("POST", "secret/data/" + admin.path(), "{\"data\":{\"api_key\":\""
                    + Leaks.track(sim.createKey("keyward-admin", Set.of("acme"))) + "\"}}");
            String livePath = run + "/docbits-key";
            Path policy = policy(work, sim, admin, livePath, "1h",
                    ", health: { url: \"" + consumer.url("/health") + "\", wait: 0s }");
            Path config = vault.serviceConfig(work, logs, run, policy, port);
            try (KeywardProcess keyward = new KeywardProcess("keyward", config, logs, Map.of("VAULT_TOKEN", vault.rootToken()))) {
                keyward.start();
                keyward.awaitReady(60);
                keyward.awaitFile(work.resolve("docbits-key"), 60);
                Scrape.awaitLine(port, "keyward_docbits_key_valid{secret=\"docbits-key\"} 1.0");

                // Someone writes a key DocBits does not know; the consumer it reaches is refused.
                consumer.answer(401);
                String typo = Leaks.secret("dbk_typo");
                vault.admin("POST", "secret/data/" + livePath, "{\"data\":{\"api_key\":\"" + typo + "\"}}");
                long written = System.nanoTime();
                Scrape.awaitLine(port, "keyward_docbits_key_valid{secret=\"docbits-key\"} 0.0");
                Duration noticed = Duration.ofNanos(System.nanoTime() - written);
                assertThat(Scrape.awaitLine(port, "keyward_notices_total{kind=\"dead\"} 1.0")).isNotNull();
                Files.writeString(logs.resolve("noticed.txt"), "dead noticed " + noticed.toMillis()
                        + " ms after the refused key was written to Vault\n");
                assertThat(keyward.log()).doesNotContain(typo);
            }
        }
    }

    /** A DocBits API-mode secret with one file target; {@code health} is appended to the target's map. */
    private static Path policy(Path work, DocBitsSimulator sim, SecretPath admin, String livePath, String probeEvery,
                               String health) throws java.io.IOException {
        return Files.writeString(work.resolve("policy.yaml"), String.join("\n",
                "issuers:",
                "  docbits-eu:",
                "    type: docbits",
                "    base_url: \"" + sim.baseUrl() + "\"",
                "    org: acme",
                "    auth: { path: " + admin.path() + " }",
                "    create: { path: /api_keys, body: '{\"name\": \"keyward-{request_id}\", \"idempotency_key\": \"{request_id}\"}' }",
                "    key_pointer: /key",
                "    revoke: { path: /api_keys/revoke, body: '{\"key\": \"{key}\"}' }",
                "secrets:",
                "  - id: docbits-key",
                "    path: " + livePath,
                "    fields: [api_key]",
                "    generator: { type: issuer, issuer: docbits-eu }",
                "    schedule: { every: 30d }",
                "    grace: 0s",
                "    watch: 2s",
                "    probe_every: " + probeEvery,
                "    targets: [{ id: app, type: file, path: " + work.resolve("docbits-key") + health + " }]",
                ""));
    }
}
