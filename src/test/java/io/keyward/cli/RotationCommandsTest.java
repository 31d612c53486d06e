package io.keyward.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyward.testing.TestDirs;
import io.keyward.testing.TestVault;
import io.keyward.testing.VaultExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** validate, plan, rotate, status, history and resume against the real OpenBao. */
@ExtendWith(VaultExtension.class)
final class RotationCommandsTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private TestVault vault;
    private Path dir;
    private Path config;
    private Path secretsDir;
    private Map<String, String> env;

    @BeforeEach
    void setUp(TestVault vault) throws Exception {
        this.vault = vault;
        this.dir = TestDirs.fresh("commands");
        this.secretsDir = TestDirs.credentials("commands");
        String state = vault.uniqueName("state");
        String prefix = vault.uniqueName("apps");
        Files.writeString(dir.resolve("policy.yaml"), String.join("\n",
                "secrets:",
                "  - id: db",
                "    path: " + prefix + "/db",
                "    fields: [password]",
                "    generator: { type: random, length: 30 }",
                "    schedule: { every: 30d }",
                "    grace: 0s",
                "    targets: [{ id: app, type: file, path: " + secretsDir.resolve("db") + " }]",
                "  - id: cache",
                "    path: " + prefix + "/cache",
                "    generator: { type: command, command: [openssl, rand, -hex, \"16\"] }",
                "    schedule: { every: 7d }",
                "    grace: 1h",
                "    targets: [{ id: worker, type: file, path: " + secretsDir.resolve("cache") + " }]",
                ""));
        config = Files.writeString(dir.resolve("keyward.yaml"), String.join("\n",
                "agent: { id: cli-agent }",
                "vault: { address: \"" + vault.address() + "\" }",
                "state: { mount: secret, path: " + state + ", dir: " + dir.resolve("state") + " }",
                "audit: { file: " + dir.resolve("audit.jsonl") + ", hmac_key_file: " + secretsDir.resolve("hmac.key") + " }",
                ""));
        env = Map.of("VAULT_TOKEN", vault.rootToken());
    }

    @Test
    void validate_goodAndBad() throws Exception {
        CliTest.Run ok = CliTest.run(Map.of(), "validate", "--policy", dir.resolve("policy.yaml").toString());
        assertThat(ok.code()).isZero();
        assertThat(ok.out()).contains("ok, 2 secrets, 0 issuers");

        CliTest.Run viaConfig = CliTest.run(env, "validate", "-c", config.toString());
        assertThat(viaConfig.code()).isZero();

        Path bad = Path.of("src/test/resources/policy/bad-same-vault-path.yaml");
        CliTest.Run no = CliTest.run(Map.of(), "validate", "--policy", bad.toString());
        assertThat(no.code()).isEqualTo(2);
        assertThat(no.err()).contains(bad + ":10:11: two secrets on one Vault path");
    }

    /**
     * The service reads its policy while it logs in: a policy with a problem still ends it with
     * exit 2 and the problem at its line, whether Vault answers or is not there at all.
     */
    @Test
    void run_withABadPolicy_exits2_namingTheProblem_withVaultUpOrDown() throws Exception {
        Path bad = Path.of("src/test/resources/policy/bad-grace-format.yaml").toAbsolutePath();
        CliTest.Run up = CliTest.run(env, "run", "-c", config.toString(), "--policy", bad.toString());
        assertThat(up.code()).isEqualTo(2);
        assertThat(up.err()).contains(bad + ":7:12: ").contains("'two hours' is not a duration");

        Path nowhere = Files.writeString(dir.resolve("nowhere.yaml"), Files.readString(config)
                .replace(vault.address().toString(), "http://127.0.0.1:" + io.keyward.testing.TestPorts.free()));
        // (a hang guard: without the policy's answer the service would wait for Vault for ever)
        CliTest.Run down = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(60),
                () -> CliTest.run(env, "run", "-c", nowhere.toString(), "--policy", bad.toString()));
        assertThat(down.code()).isEqualTo(2);
        assertThat(down.err()).contains("'two hours' is not a duration");
    }

    @Test
    void rotate_status_history_resume() throws Exception {
        CliTest.Run dry = CliTest.run(env, "rotate", "db", "--dry-run", "-c", config.toString());
        assertThat(dry.out()).contains("db: would rotate now").contains("deliver        app");
        assertThat(Files.exists(secretsDir.resolve("db"))).isFalse();

        CliTest.Run first = CliTest.run(env, "rotate", "db", "-c", config.toString());
        assertThat(first.code()).isZero();
        assertThat(first.out()).contains("db: rotated v0 -> v1");
        assertThat(Files.readString(secretsDir.resolve("db"))).hasSize(30);

        CliTest.Run notDue = CliTest.run(env, "rotate", "db", "-c", config.toString());
        assertThat(notDue.out()).contains("db: not due until");

        CliTest.Run cacheFirst = CliTest.run(env, "rotate", "cache", "--now", "-c", config.toString());
        assertThat(cacheFirst.out()).as("a first value has no old one to keep valid").contains("cache: rotated v0 -> v1");
        io.keyward.testing.Leaks.track(Files.readString(secretsDir.resolve("cache")));
        CliTest.Run cache = CliTest.run(env, "rotate", "cache", "--now", "-c", config.toString());
        assertThat(cache.out()).contains("cache: rotation").contains("delivered, old version 1 stays valid during the grace period");
        io.keyward.testing.Leaks.track(Files.readString(secretsDir.resolve("cache")));
        io.keyward.testing.Leaks.track(Files.readString(secretsDir.resolve("db")));

        CliTest.Run status = CliTest.run(env, "status", "--output", "json", "-c", config.toString());
        assertThat(status.code()).isZero();
        JsonNode rows = JSON.readTree(status.out());
        assertThat(rows).hasSize(2);
        assertThat(rows.get(0).path("secret").asString()).isEqualTo("db");
        assertThat(rows.get(0).path("live_version").asInt()).isEqualTo(1);
        assertThat(rows.get(0).path("phase").asString()).isEqualTo("retired");
        assertThat(rows.get(1).path("phase").asString()).isEqualTo("delivered");
        assertThat(rows.get(1).path("owner").asString()).isEqualTo("cli-agent");

        CliTest.Run text = CliTest.run(env, "status", "-c", config.toString());
        assertThat(text.out()).contains("SECRET").contains("delivered by cli-agent");

        CliTest.Run history = CliTest.run(env, "history", "db", "-c", config.toString());
        assertThat(history.out()).contains("completed").contains("v0->v1").contains("rotation.promoted");

        CliTest.Run resume = CliTest.run(env, "resume", "-c", config.toString());
        assertThat(resume.code()).isZero();
        assertThat(resume.out()).contains("cache: rotation").contains("grace period");

        for (CliTest.Run r : new CliTest.Run[] {first, cache, status, history, resume}) {
            assertThat(r.out() + r.err()).doesNotContain(Files.readString(secretsDir.resolve("db")));
        }
    }

    @Test
    void status_afterARolledBackRotation_showsTheFailedAttemptsAndWhenTheNextMayStart() throws Exception {
        Path policy = Files.writeString(dir.resolve("refused.yaml"), String.join("\n",
                "secrets:",
                "  - id: refused",
                "    path: " + vault.uniqueName("apps") + "/refused",
                "    generator: { type: random, length: 20 }",
                "    schedule: { every: 30d }",
                "    retry_cap: 1h",
                "    verify: [{ type: command, command: [\"false\"] }]",
                "    targets: [{ id: app, type: file, path: " + secretsDir.resolve("refused") + " }]",
                ""));
        CliTest.Run rotate = CliTest.run(env, "rotate", "refused", "--now", "-c", config.toString(), "--policy", policy.toString());
        assertThat(rotate.code()).isEqualTo(4);
        assertThat(rotate.out()).contains("rolled back: verification failed");

        CliTest.Run json = CliTest.run(env, "status", "--output", "json", "-c", config.toString(), "--policy", policy.toString());
        JsonNode row = JSON.readTree(json.out()).get(0);
        assertThat(row.path("failed_attempts").asInt()).isEqualTo(1);
        java.time.Instant next = java.time.Instant.parse(row.path("next_attempt").asString());
        assertThat(next).isBetween(java.time.Instant.now(), java.time.Instant.now().plusSeconds(61));
        CliTest.Run text = CliTest.run(env, "status", "-c", config.toString(), "--policy", policy.toString());
        assertThat(text.out()).contains("1 failed, next ");
    }

    /**
     * {@code --emergency} rotates a secret that is not due and retires the old value at once,
     * where a plain {@code --now} keeps it valid for the secret's grace (1h here).
     */
    @Test
    void rotate_emergency_rotatesBeforeItIsDue_andSkipsTheGrace() throws Exception {
        assertThat(CliTest.run(env, "rotate", "cache", "--now", "-c", config.toString()).out()).contains("rotated v0 -> v1");
        io.keyward.testing.Leaks.track(Files.readString(secretsDir.resolve("cache")));
        assertThat(CliTest.run(env, "rotate", "cache", "-c", config.toString()).out()).contains("cache: not due until");

        CliTest.Run dry = CliTest.run(env, "rotate", "cache", "--emergency", "--dry-run", "-c", config.toString());
        assertThat(dry.out()).contains("would rotate now (forced)").contains("retire         version 1 as soon as every target has the new one");

        CliTest.Run emergency = CliTest.run(env, "rotate", "cache", "--emergency", "-c", config.toString());
        assertThat(emergency.code()).isZero();
        assertThat(emergency.out()).contains("cache: rotated v1 -> v2").doesNotContain("grace period");
        io.keyward.testing.Leaks.track(Files.readString(secretsDir.resolve("cache")));

        JsonNode row = JSON.readTree(CliTest.run(env, "status", "--output", "json", "-c", config.toString()).out()).get(1);
        assertThat(row.path("secret").asString()).isEqualTo("cache");
        assertThat(row.path("live_version").asInt()).isEqualTo(2);
        assertThat(row.path("phase").asString()).as("the old value is retired, not kept for the grace").isEqualTo("retired");
        assertThat(CliTest.run(env, "history", "cache", "-c", config.toString()).out()).contains("emergency");
    }

    @Test
    void rotate_unknownSecret_exits2_namingTheKnownOnes() throws Exception {
        CliTest.Run r = CliTest.run(env, "rotate", "nope", "-c", config.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("no secret 'nope'").contains("known: db, cache");
    }

    @Test
    void plan_textAndJson() throws Exception {
        CliTest.Run offline = CliTest.run(env, "plan", "--offline", "--from", "2026-01-01T00:00:00Z",
                "--horizon", "30d", "-c", config.toString());
        assertThat(offline.code()).isZero();
        assertThat(offline.out()).contains("2026-01-08 00:00:00Z   cache").contains("2026-01-31 00:00:00Z   db");

        CliTest.Run json = CliTest.run(env, "plan", "--horizon", "60d", "--output", "json", "-c", config.toString());
        assertThat(json.code()).isZero();
        JsonNode plan = JSON.readTree(json.out());
        assertThat(plan.path("rotations").get(0).path("why").asString()).isEqualTo("does not exist yet");
        assertThat(plan.path("rotations").findValuesAsString("secret")).contains("db", "cache");
    }
}
