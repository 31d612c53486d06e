package io.keyward.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyward.docbits.DocBitsSimulator;
import io.keyward.rotation.SecretPath;
import io.keyward.testing.DocBitsIssuer;
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
        try (DocBitsSimulator sim = DocBitsSimulator.start(0, Clock.systemUTC());
             Served served = Served.start(vault, sim, "probe", "1s", "")) {
            KeywardProcess keyward = served.keyward();
            int port = served.port();
            String live = Leaks.track(Files.readString(served.work().resolve("docbits-key")));

            // A person presses Regenerate in DocBits' settings: the live key dies at once.
            long regenerated = System.nanoTime();
            String fresh = Leaks.track(sim.regenerate(live).orElseThrow());
            assertThat(sim.accepts(live, "acme")).isFalse();
            Scrape.awaitLine(port, "keyward_docbits_key_valid{secret=\"docbits-key\"} 0.0");
            Duration noticed = Duration.ofNanos(System.nanoTime() - regenerated);
            assertThat(Scrape.awaitLine(port, "keyward_notices_total{kind=\"dead\"} 1.0")).isNotNull();
            assertThat(keyward.log()).contains("dead docbits-key v1: the live DocBits key for docbits-key is refused "
                    + "(regenerated or revoked in DocBits' settings?); paste the new one: keyward submit docbits-key");
            Files.writeString(served.logs().resolve("noticed.txt"), "dead noticed " + noticed.toMillis() + " ms after the regenerate\n");

            // The new key reaches Vault (here written by hand): the probe takes it, and says so once.
            vault.admin("POST", "secret/data/" + served.livePath(), "{\"data\":{\"api_key\":\"" + fresh + "\"}}");
            Scrape.awaitLine(port, "keyward_docbits_key_valid{secret=\"docbits-key\"} 1.0");
            assertThat(Scrape.awaitLine(port, "keyward_notices_total{kind=\"dead\"} 1.0")).as("announced once").isNotNull();
            assertThat(keyward.log()).doesNotContain(live).doesNotContain(fresh);
        }
    }

    /**
     * A consumer's health check that answers 401 after a delivery has its live key tried at once,
     * not at the next {@code probe_every} (an hour here): a key written to Vault by hand that DocBits
     * refuses is announced dead within seconds.
     */
    @Test
    void aConsumersRefusedKey_isProbedAtOnce_notAtTheNextProbe(TestVault vault) throws Exception {
        try (DocBitsSimulator sim = DocBitsSimulator.start(0, Clock.systemUTC());
             io.keyward.testing.Receiver consumer = io.keyward.testing.Receiver.start(null);
             Served served = Served.start(vault, sim, "probe-401", "1h",
                     ", health: { url: \"" + consumer.url("/health") + "\", wait: 0s }")) {
            int port = served.port();

            // Someone writes a key DocBits does not know; the consumer it reaches is refused.
            consumer.answer(401);
            String typo = Leaks.secret("dbk_typo");
            vault.admin("POST", "secret/data/" + served.livePath(), "{\"data\":{\"api_key\":\"" + typo + "\"}}");
            long written = System.nanoTime();
            Scrape.awaitLine(port, "keyward_docbits_key_valid{secret=\"docbits-key\"} 0.0");
            Duration noticed = Duration.ofNanos(System.nanoTime() - written);
            assertThat(Scrape.awaitLine(port, "keyward_notices_total{kind=\"dead\"} 1.0")).isNotNull();
            Files.writeString(served.logs().resolve("noticed.txt"), "dead noticed " + noticed.toMillis()
                    + " ms after the refused key was written to Vault\n");
            assertThat(served.keyward().log()).doesNotContain(typo);
        }
    }

    /** {@code keyward run} serving one DocBits secret from the simulator: READY, its file written, the key valid. */
    private record Served(KeywardProcess keyward, Path work, Path logs, int port, String livePath) implements AutoCloseable {

        static Served start(TestVault vault, DocBitsSimulator sim, String name, String probeEvery, String health)
                throws Exception {
            String run = vault.uniqueName(name);
            Path work = TestDirs.credentials(run);
            Path logs = TestDirs.fresh(run);
            int port = TestPorts.free();
            SecretPath admin = vault.uniquePath("docbits-admin");
            vault.admin("POST", "secret/data/" + admin.path(), "{\"data\":{\"api_key\":\""
                    + Leaks.track(sim.createKey("keyward-admin", Set.of("acme"))) + "\"}}");
            String livePath = run + "/docbits-key";
            Path config = vault.serviceConfig(work, logs, run, policy(work, sim, admin, livePath, probeEvery, health), port);
            KeywardProcess keyward = new KeywardProcess("keyward", config, logs, Map.of("VAULT_TOKEN", vault.rootToken()));
            try {
                keyward.start();
                keyward.awaitReady(60);
                keyward.awaitFile(work.resolve("docbits-key"), 60);
                Scrape.awaitLine(port, "keyward_docbits_key_valid{secret=\"docbits-key\"} 1.0");
            } catch (Exception | AssertionError e) {
                keyward.close();
                throw e;
            }
            return new Served(keyward, work, logs, port, livePath);
        }

        @Override
        public void close() throws Exception {
            keyward.close();
        }
    }

    /** A DocBits API-mode secret with one file target; {@code health} is appended to the target's map. */
    private static Path policy(Path work, DocBitsSimulator sim, SecretPath admin, String livePath, String probeEvery,
                               String health) throws java.io.IOException {
        return Files.writeString(work.resolve("policy.yaml"), String.join("\n",
                "issuers:",
                DocBitsIssuer.apiMode("docbits-eu", sim.baseUrl(), admin.path()),
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
