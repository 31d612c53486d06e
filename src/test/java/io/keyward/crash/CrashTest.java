package io.keyward.crash;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyward.cli.Cli;
import io.keyward.testing.Leaks;
import io.keyward.testing.OutsideConsumer;
import io.keyward.testing.TestDirs;
import io.keyward.testing.TestVault;
import io.keyward.testing.VaultExtension;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import tools.jackson.databind.JsonNode;

/**
 * Runs keyward as a separate JVM against the real OpenBao, with a file-backed issuer script and
 * file targets in every format, kills it with SIGKILL at every phase boundary (three times each)
 * and at random moments, resumes, and checks the invariant after each: the journal finished or
 * rolled back; the live value, the issuer's only valid key and every target agree; nothing valid
 * is missing from Vault; no key was revoked while a target held it, and an application outside
 * keyward (its own process, reading the files) never read a revoked key; no secret rotated twice.
 * Some runs have a second agent on another host (its own agent id, audit key, audit file, state
 * folder and targets) take the killed agent's rotation over once its lease runs out, the killed
 * agent then catching up as a member. Each agent keeps one state folder and one set of files for
 * the whole test while every run meets a fresh Vault (its own state path and secret path) and
 * reuses one of three secret ids, as a host's default state folder outlives the Vaults it served;
 * a watch ({@code sync}) runs between the steps. {@code -Dsoak.kills=500} sets the number of
 * random kills (default 50).
 */
@ExtendWith(VaultExtension.class)
final class CrashTest {

    private static final List<String> BOUNDARIES = List.of("claimed", "staged", "applied", "verified", "promoted",
            "delivered", "retired");
    /** Where a second agent can take over: before the first one waits for it to acknowledge. */
    private static final List<String> TAKEOVER_BOUNDARIES = BOUNDARIES.subList(0, 5);
    private static final java.time.Duration LEASE = java.time.Duration.ofSeconds(5);

    /** The files of one agent's targets of a secret: every format, how the application reads each. */
    private static final List<String> FORMATS = List.of("raw", "env", "json", "properties", "template");
    private static final String TEMPLATE = "[client]\nkey = {{api_key}}\n";

    private TestVault vault;
    private Path work;
    private Path logs;
    private Path targets;
    private final List<String> violations = new ArrayList<>();
    private int kills;
    private int takeovers;
    private int runs;
    private long reads;
    private long revokedReads;

    @BeforeEach
    void setUp(TestVault vault) throws IOException {
        this.vault = vault;
        this.work = TestDirs.credentials("crash");
        this.logs = TestDirs.fresh("crash");
        this.targets = Files.createDirectories(work.resolve("targets"));
    }

    @Test
    void killAtEveryPhaseBoundary_threeTimes_thenRandomly_invariantHolds() throws Exception {
        for (String phase : BOUNDARIES) {
            for (int i = 0; i < 3; i++) {
                runOnce(phase, 0, i == 2 && TAKEOVER_BOUNDARIES.contains(phase));
            }
        }
        int randomKills = Integer.getInteger("soak.kills", 50);
        Random random = new Random(Long.getLong("soak.seed", System.nanoTime()));
        for (int i = 0; i < randomKills; i++) {
            runOnce(null, 150 + random.nextInt(1400), i % 10 == 9);
        }
        String summary = "crash test: " + kills + " kills (" + takeovers + " taken over by a second agent with another"
                + " audit key), the application read " + reads + " keys, " + revokedReads + " of them revoked; "
                + violations.size() + " violations";
        System.out.println(summary);
        Files.writeString(logs.resolve("summary.txt"), summary + "\n" + String.join("\n", violations));
        assertThat(kills).isEqualTo(BOUNDARIES.size() * 3 + randomKills);
        assertThat(violations).isEmpty();
    }

    /**
     * One secret: rotate it once cleanly, then start a rotation in a JVM, kill it, resume, check.
     * With {@code takeover} a second agent on another host serves the secret too: it resumes the
     * rotation once the killed agent's lease ran out, the killed agent catches up as a member, and
     * the second agent finishes.
     */
    private void runOnce(String pauseAt, int killAfterMs, boolean takeover) throws Exception {
        String id = "crash-" + (1 + runs++ % 3);
        String life = UUID.randomUUID().toString().substring(0, 8);
        Path dir = Files.createDirectories(work.resolve(id + "-" + life));
        Path state = Files.createDirectories(dir.resolve("issuer"));
        Path a = writeConfig(dir, id, life, "a");
        Path b = writeConfig(dir, id, life, "b");
        Map<String, String> env = new HashMap<>(Map.of("VAULT_TOKEN", vault.rootToken(),
                "ISSUER_STATE", state.toString(), "ISSUER_TARGETS", targets.toString()));
        List<OutsideConsumer.File> files = new ArrayList<>(files(id, "a"));
        if (takeover) files.addAll(files(id, "b"));
        try (OutsideConsumer app = OutsideConsumer.start(state, files, 5, logs.resolve(id + "-" + life))) {
            runOnce(id, life, pauseAt, killAfterMs, takeover, a, b, env, state, files);
            OutsideConsumer.Figures seen = app.stop();
            reads += seen.reads();
            revokedReads += seen.revokedReads();
            if (seen.revokedReads() > 0) violations.add(id + " (" + life + "): the application read revoked keys: " + seen);
        }
        trackKeys(state);
    }

    private void runOnce(String id, String life, String pauseAt, int killAfterMs, boolean takeover, Path a, Path b,
                         Map<String, String> env, Path state, List<OutsideConsumer.File> files) throws Exception {

        ByteArrayOutputStream firstOut = new ByteArrayOutputStream();
        int first = Cli.run(new String[] {"rotate", id, "--now", "-c", a.toString()},
                new PrintStream(firstOut, true, StandardCharsets.UTF_8), new PrintStream(firstOut, true, StandardCharsets.UTF_8), env);
        String label = id + " (" + life + ")" + (pauseAt != null ? " killed after " + pauseAt : " killed after " + killAfterMs
                + " ms") + (takeover ? ", taken over by agent b" : "");
        if (first != 0) {
            violations.add(label + ": the first rotation failed (" + first + "): " + firstOut.toString(StandardCharsets.UTF_8).strip());
            return;
        }
        cli(label, env, "sync", "-c", a.toString());
        if (takeover) cli(label, env, "sync", "-c", b.toString());
        int before = liveVersion(id, life);

        Process child = startChild(id, a, env, pauseAt);
        if (pauseAt != null) {
            waitForPause(child, id, pauseAt);
        } else {
            child.waitFor(killAfterMs, TimeUnit.MILLISECONDS);
        }
        child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        kills++;

        if (takeover) {
            takeovers++;
            Thread.sleep(LEASE.toMillis() + 300); // the killed agent's claim runs out
            cli(label, env, "resume", "-c", b.toString());
            cli(label, env, "resume", "-c", a.toString());
            cli(label, env, "resume", "-c", b.toString());
        } else {
            cli(label, env, "resume", "-c", a.toString());
        }
        cli(label, env, "sync", "-c", a.toString());
        check(label, id, life, before, state, files);
    }

    /** The files of one agent's targets of a secret, one per format. */
    private List<OutsideConsumer.File> files(String id, String agent) {
        List<OutsideConsumer.File> out = new ArrayList<>();
        for (String format : FORMATS) {
            out.add(new OutsideConsumer.File(targets.resolve(id + "-" + agent + "." + format), format, "api_key",
                    format.equals("template") ? TEMPLATE : null));
        }
        return out;
    }

    private void cli(String label, Map<String, String> env, String... args) {
        int code = Cli.run(args, quiet(), quiet(), env);
        if (code != 0 && code != 4) violations.add(label + ": " + String.join(" ", args) + " exited with " + code);
    }

    private void check(String label, String id, String life, int before, Path state, List<OutsideConsumer.File> files)
            throws Exception {
        JsonNode journal = read("secret/data/crash-state-" + life + "/journal/" + id);
        String phase = journal.path("data").path("data").path("phase").asString();
        if (!phase.equals("retired") && !phase.equals("rolled_back")) {
            violations.add(label + ": journal left at " + phase);
        }
        JsonNode live = read("secret/data/crash/" + life + "/" + id).path("data");
        String value = live.path("data").path("api_key").asString();
        int version = live.path("metadata").path("version").asInt();
        boolean rotated = phase.equals("retired") && journal.path("data").path("data").path("new_version").asInt() == version
                && version == before + 1;
        if (version != before && !rotated) {
            violations.add(label + ": live version " + version + " after starting from " + before + " (phase " + phase + ")");
        }
        for (OutsideConsumer.File f : files) {
            String held = Files.exists(f.path()) ? Files.readString(f.path()) : "(no file)";
            if (f.format().equals("raw") ? !held.strip().equals(value) : !held.contains(value)) {
                violations.add(label + ": target " + f.path().getFileName() + " holds another value than Vault's live one");
            }
        }
        Set<String> valid;
        try (Stream<Path> s = Files.list(state.resolve("valid"))) {
            valid = s.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
        }
        if (!valid.equals(Set.of(value))) {
            violations.add(label + ": the issuer's valid keys are " + valid.size() + ", expected exactly the live one");
        }
        Path v = state.resolve("violations");
        if (Files.exists(v)) violations.add(label + ": " + Files.readString(v).strip());
    }

    private Process startChild(String id, Path config, Map<String, String> env, String pauseAt) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto",
                "-Dkeyward.basedir=" + TestDirs.target().getParent(), "-Dkeyward.log.level=INFO"));
        if (pauseAt != null) cmd.add("-Dkeyward.test.pause-at=" + pauseAt);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.keyward.cli.Main",
                "rotate", id, "--now", "-c", config.toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .redirectOutput(logs.resolve(id + ".out").toFile())
                .redirectError(logs.resolve(id + ".err").toFile());
        pb.environment().putAll(env);
        return pb.start();
    }

    private void waitForPause(Process child, String id, String phase) throws Exception {
        Path err = logs.resolve(id + ".err");
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < until) {
            if (Files.exists(err) && Files.readString(err).contains("PAUSED " + id + " " + phase)) return;
            if (!child.isAlive()) {
                violations.add(id + ": the agent exited (" + child.exitValue() + ") before pausing at " + phase);
                return;
            }
            Thread.sleep(20);
        }
        violations.add(id + ": the agent never paused at " + phase);
    }

    /**
     * Agent {@code agent}'s configuration and policy for one life of the secret (a fresh state path
     * and secret path): its own id, audit key and file, and the state folder and files it keeps
     * across lives.
     */
    private Path writeConfig(Path dir, String id, String life, String agent) throws IOException {
        String issuer = TestDirs.target().getParent().resolve("src/test/resources/issuer.sh").toString();
        Path policy = dir.resolve("policy-" + agent + ".yaml");
        Files.writeString(policy, String.join("\n",
                "issuers:",
                "  crash-issuer:",
                "    type: command",
                "    issue: [bash, " + issuer + ", issue]",
                "    revoke: [bash, " + issuer + ", revoke]",
                "secrets:",
                "  - id: " + id,
                "    path: crash/" + life + "/" + id,
                "    fields: [api_key]",
                "    generator: { type: issuer, issuer: crash-issuer }",
                "    schedule: { every: 30d }",
                "    grace: 0s",
                "    attempts: 2",
                "    backoff: { initial: 50ms, max: 200ms }",
                "    verify:",
                "      - { type: command, command: [bash, " + issuer + ", check] }",
                "    targets:",
                "      - { id: app, type: file, path: " + targets.resolve(id + "-" + agent + ".raw") + " }",
                "      - { id: app-env, type: file, format: env, path: " + targets.resolve(id + "-" + agent + ".env") + " }",
                "      - { id: app-json, type: file, format: json, path: " + targets.resolve(id + "-" + agent + ".json") + " }",
                "      - { id: app-props, type: file, format: properties, path: "
                        + targets.resolve(id + "-" + agent + ".properties") + " }",
                "      - { id: app-tpl, type: file, format: template, template: \"" + TEMPLATE.replace("\n", "\\n") + "\", path: "
                        + targets.resolve(id + "-" + agent + ".template") + " }",
                ""));
        return Files.writeString(dir.resolve("keyward-" + agent + ".yaml"), String.join("\n",
                "agent: { id: crash-agent-" + agent + " }",
                "vault: { address: \"" + vault.address() + "\" }",
                "policy: " + policy,
                "state: { mount: secret, path: crash-state-" + life + ", dir: " + work.resolve("state-" + agent) + " }",
                "rotation: { lease: " + LEASE.toSeconds() + "s }",
                "audit:",
                "  file: " + logs.resolve("audit-" + agent + ".jsonl"),
                "  hmac_key_file: " + dir.resolve("hmac-" + agent + ".key"),
                ""));
    }

    private int liveVersion(String id, String life) {
        return read("secret/data/crash/" + life + "/" + id).path("data").path("metadata").path("version").asInt(0);
    }

    private JsonNode read(String apiPath) {
        return vault.admin("GET", apiPath, null);
    }

    private static void trackKeys(Path state) throws IOException {
        for (String sub : List.of("valid", "revoked")) {
            Path d = state.resolve(sub);
            if (!Files.isDirectory(d)) continue;
            try (Stream<Path> s = Files.list(d)) {
                s.forEach(p -> Leaks.track(p.getFileName().toString()));
            }
        }
    }

    private static PrintStream quiet() {
        return new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
    }
}
