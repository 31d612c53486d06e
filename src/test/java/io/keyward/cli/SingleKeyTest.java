package io.keyward.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyward.docbits.DocBitsSimulator;
import io.keyward.testing.KeywardProcess;
import io.keyward.testing.Leaks;
import io.keyward.testing.Receiver;
import io.keyward.testing.Scrape;
import io.keyward.testing.TestDirs;
import io.keyward.testing.TestPorts;
import io.keyward.testing.TestVault;
import io.keyward.testing.VaultExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import tools.jackson.databind.JsonNode;

/**
 * A DocBits account with one key and a Regenerate button ({@code keys: single}), as an operator
 * lives it: {@code keyward run} serves the key to a file, a webhook and an exec target; a person
 * presses Regenerate (the old key dies at once); the probe raises {@code dead}; the person runs
 * {@code keyward submit}; every target has the new key at once, with no splay (the policy's is a
 * minute) and no grace (the policy's is an hour); the outage is recorded in status, history and
 * /metrics. A refused key is never stored. Real OpenBao, the DocBits simulator, a real process.
 */
@ExtendWith(VaultExtension.class)
final class SingleKeyTest {

    @Test
    void regenerateThenSubmit_reachesEveryTargetAtOnce_andTheOutageIsRecorded(TestVault vault) throws Exception {
        String run = vault.uniqueName("single");
        Path work = TestDirs.credentials(run);
        Path logs = TestDirs.fresh(run);
        int port = TestPorts.free();
        Path reloads = work.resolve("reloads");
        Path reload = work.resolve("reload.sh");
        Files.writeString(reload, "#!/bin/sh\necho \"$KEYWARD_VERSION $(date +%s%3N)\" >> " + reloads + "\n");
        Files.setPosixFilePermissions(reload, PosixFilePermissions.fromString("rwx------"));
        String hmac = Leaks.secret("single-hook");
        String livePath = run + "/docbits";
        try (DocBitsSimulator sim = DocBitsSimulator.start(0, Clock.systemUTC()); Receiver hook = Receiver.start(hmac)) {
            vault.admin("POST", "secret/data/" + run + "/hook", "{\"data\":{\"hmac_key\":\"" + hmac + "\"}}");
            String k1 = Leaks.track(sim.createKey("the-one-key", Set.of("acme")));
            vault.admin("POST", "secret/data/" + livePath, "{\"data\":{\"api_key\":\"" + k1 + "\"}}");
            Path policy = Files.writeString(work.resolve("policy.yaml"), String.join("\n",
                    "defaults: { restarts: { at_once: 1, splay: 60s } }",
                    "issuers:",
                    "  docbits-us:",
                    "    type: docbits",
                    "    mode: manual",
                    "    keys: single",
                    "    base_url: \"" + sim.baseUrl() + "\"",
                    "    org: acme",
                    "secrets:",
                    "  - id: docbits-key",
                    "    path: " + livePath,
                    "    fields: [api_key]",
                    "    generator: { type: issuer, issuer: docbits-us }",
                    "    schedule: { every: 90d }",
                    "    grace: 1h",
                    "    watch: 1h",
                    "    probe_every: 1s",
                    "    targets:",
                    "      - { id: ion, type: file, path: " + work.resolve("ion-key") + " }",
                    "      - { id: erp, type: webhook, url: \"" + hook.url("/key") + "\", signing_key: { path: " + run + "/hook } }",
                    "      - { id: app, type: exec, command: [" + reload + "] }",
                    ""));
            Path config = vault.serviceConfig(work, logs, run, policy, port);
            Map<String, String> env = Map.of("VAULT_TOKEN", vault.rootToken());
            try (KeywardProcess keyward = new KeywardProcess("keyward", config, logs, env)) {
                keyward.start();
                keyward.awaitReady(60);
                keyward.awaitFile(work.resolve("ion-key"), 60);
                Scrape.awaitLine(port, "keyward_docbits_key_valid{secret=\"docbits-key\"} 1.0");

                // The person presses Regenerate: the one key dies at once, and the probe says so.
                Instant regenerated = Instant.now();
                String k2 = Leaks.track(sim.regenerate(k1).orElseThrow());
                Scrape.awaitLine(port, "keyward_docbits_key_valid{secret=\"docbits-key\"} 0.0");
                long noticedMs = Duration.between(regenerated, Instant.now()).toMillis();
                assertThat(noticedMs).as("dead noticed within one probe_every and a look").isLessThan(3000);
                CliTest.Run dead = CliTest.run(env, "status", "-c", config.toString());
                assertThat(dead.out()).contains("docbits-key: DocBits refuses the live key since")
                        .contains("keyward submit docbits-key");

                // A key DocBits does not know (a bad copy): refused before anything is stored.
                CliTest.Run wrong = CliTest.runWithInput(Leaks.secret("bad-copy") + "\n", env, "submit", "docbits-key", "-c", config.toString());
                assertThat(wrong.code()).isEqualTo(2);
                assertThat(wrong.out() + wrong.err()).contains("DocBits refuses the submitted key: nothing was stored");
                assertThat(version(vault, livePath)).isEqualTo(1);

                // The new key: verified, delivered to all three at once, the old one retired at once.
                Instant submitted = Instant.now();
                CliTest.Run submit = CliTest.runWithInput(k2 + "\n", env, "submit", "docbits-key", "-c", config.toString());
                long submitMs = Duration.between(submitted, Instant.now()).toMillis();
                assertThat(submit.code()).as(submit.out() + submit.err()).isZero();
                assertThat(submit.out()).contains("docbits-key: rotated v1 -> v2")
                        .contains("consumers were without a working key for");
                assertThat(Files.readString(work.resolve("ion-key")).equals(k2)).as("the file holds the new key").isTrue();
                assertThat(hook.requests()).anyMatch(r -> r.signed() && r.body().contains("\"version\":2"));
                assertThat(Files.readString(reloads)).contains("2 ");

                // The journal keeps the outage: from the probe's first refusal to the last target's ack.
                JsonNode history = vault.admin("GET", "secret/data/" + run + "-state/journal/docbits-key", null)
                        .at("/data/data/history/0");
                assertThat(history.path("outcome").asString()).isEqualTo("completed");
                long outageMs = history.path("outage_ms").asLong(-1);
                long regenerateToSubmitReturnedMs = Duration.between(regenerated, Instant.now()).toMillis();
                assertThat(outageMs).as("outage from the first refusal (within a look of the regenerate) to the last ack")
                        .isBetween(Duration.between(regenerated, submitted).toMillis() - 1500, regenerateToSubmitReturnedMs);
                assertThat(submitMs).as("submit to the last ack, with no splay and no grace").isLessThan(10_000);
                Files.writeString(logs.resolve("outage.txt"), "dead noticed " + noticedMs + " ms after the regenerate; "
                        + "recorded outage " + outageMs + " ms; submit took " + submitMs + " ms (verify, store, deliver to "
                        + "3 targets, retire)\n");

                CliTest.Run status = CliTest.run(env, "status", "-c", config.toString());
                assertThat(status.out()).containsPattern("docbits-key: last outage [0-9.]+ s, ended");
                assertThat(status.out()).doesNotContain("refuses the live key");
                CliTest.Run hist = CliTest.run(env, "history", "docbits-key", "-c", config.toString());
                assertThat(hist.out()).contains("OUTAGE").containsPattern("completed +v1->v2 .* [0-9.]+ s ");
                assertThat(Scrape.awaitValue(port, "keyward_docbits_outage_seconds\\{secret=\"docbits-key\"} ([0-9.]+)"))
                        .isCloseTo(outageMs / 1000.0, org.assertj.core.data.Offset.offset(0.01));

                // Regenerated again and written to Vault by hand: the daemon delivers it within a look, not at its watch.
                String k3 = Leaks.track(sim.regenerate(k2).orElseThrow());
                Scrape.awaitLine(port, "keyward_docbits_key_valid{secret=\"docbits-key\"} 0.0");
                Instant written = Instant.now();
                vault.admin("POST", "secret/data/" + livePath, "{\"data\":{\"api_key\":\"" + k3 + "\"}}");
                long until = System.nanoTime() + Duration.ofSeconds(20).toNanos();
                while (!Files.readString(work.resolve("ion-key")).equals(k3) && System.nanoTime() < until) Thread.sleep(50);
                assertThat(Files.readString(work.resolve("ion-key")).equals(k3)).as("v3 delivered without waiting for the 1h watch")
                        .isTrue();
                Files.writeString(logs.resolve("outage.txt"), "v3 written to Vault by hand reached the file "
                        + Duration.between(written, Instant.now()).toMillis() + " ms later\n",
                        java.nio.file.StandardOpenOption.APPEND);
                Scrape.awaitLine(port, "keyward_docbits_key_valid{secret=\"docbits-key\"} 1.0");
                assertThat(keyward.log()).doesNotContain(k1).doesNotContain(k2).doesNotContain(k3);
                // The service and the submit beside it wrote one audit file: its chain is whole.
                CliTest.Run verify = CliTest.run(env, "audit", "verify", "-c", config.toString());
                assertThat(verify.code()).as(verify.out() + verify.err()).isZero();
            }
        }
    }

    private static int version(TestVault vault, String path) throws Exception {
        return vault.admin("GET", "secret/metadata/" + path, null).at("/data/current_version").asInt();
    }
}
