package io.keyward.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keyward.testing.Leaks;
import io.keyward.testing.TestDirs;
import io.keyward.testing.TestVault;
import io.keyward.testing.VaultExtension;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code keyward exec} as a separate JVM running a real child program (a shell script that
 * records each start, the values it was given and the signals it got), against the real OpenBao.
 * Another agent (the command line, as an operator) rotates; the supervisor is a member of the
 * fleet whose one target is the application.
 */
@ExtendWith(VaultExtension.class)
final class ExecCommandTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private TestVault vault;
    private Path dir;
    private Path creds;
    private Path policy;
    private Path operator;
    private Path app;
    private String dbPath;
    private Process exec;
    private final List<Process> started = new ArrayList<>();

    @BeforeEach
    void setUp(TestVault vault) throws Exception {
        this.vault = vault;
        dir = TestDirs.fresh("exec");
        creds = TestDirs.credentials("exec");
        dbPath = vault.uniqueName("apps") + "/db";
        String state = vault.uniqueName("state");
        Path issuer = Files.writeString(creds.resolve("issuer.sh"), "#!/bin/sh\ncase \"$1\" in\n"
                + "  accept) cat > /dev/null ;;\n"
                + "  revoke) cat >> " + creds.resolve("revoked") + "; echo >> " + creds.resolve("revoked") + " ;;\n"
                + "  *) exit 2 ;;\nesac\n");
        Files.setPosixFilePermissions(issuer, PosixFilePermissions.fromString("rwx------"));
        policy = Files.writeString(dir.resolve("policy.yaml"), String.join("\n",
                "issuers:",
                "  db-server: { type: command, issue: [/bin/false], accept: [" + issuer + ", accept], revoke: [" + issuer
                        + ", revoke] }",
                "secrets:",
                "  - id: db",
                "    path: " + dbPath,
                "    fields: [password]",
                "    generator: { type: random, length: 24 }",
                "    issuer: db-server",
                "    schedule: { every: 30d }",
                "    grace: 0s",
                "    watch: 1s",
                "    targets: [{ id: copy, type: file, path: " + creds.resolve("db-copy") + " }]",
                "  - id: api",
                "    path: " + vault.uniqueName("apps") + "/api",
                "    fields: [key]",
                "    generator: { type: random, length: 24, field: key }",
                "    schedule: { every: 30d }",
                "    watch: 1s",
                "    targets: [{ id: copy, type: file, path: " + creds.resolve("api-copy") + ", format: json }]",
                ""));
        operator = config("operator", state);
        config("payments-exec", state);
        app = Files.writeString(dir.resolve("app.sh"), String.join("\n",
                "#!/bin/sh",
                "echo $$ >> " + dir.resolve("starts"),
                "printf '%s' \"$DB_PASSWORD\" > " + creds.resolve("seen-db"),
                "printf '%s' \"$API_KEY\" > " + creds.resolve("seen-api"),
                "[ -n \"$VAULT_TOKEN\" ] && echo yes > " + dir.resolve("vault-token-seen"),
                "if [ -f " + creds.resolve("only") + " ] && [ \"$DB_PASSWORD\" != \"$(cat " + creds.resolve("only") + ")\" ]; then exit 7; fi",
                "trap 'echo \"term $$\" >> " + dir.resolve("signals") + "; exit 0' TERM",
                "trap 'echo \"hup $$\" >> " + dir.resolve("signals") + "' HUP",
                "while :; do sleep 0.1; done",
                ""));
        Files.setPosixFilePermissions(app, PosixFilePermissions.fromString("rwx------"));
        assertThat(CliTest.run(env(), "rotate", "db", "--now", "-c", operator.toString()).out()).contains("rotated v0 -> v1");
        assertThat(CliTest.run(env(), "rotate", "api", "--now", "-c", operator.toString()).out()).contains("rotated v0 -> v1");
    }

    @AfterEach
    void tearDown() throws Exception {
        for (Process p : started) {
            if (p.isAlive()) p.destroyForcibly().waitFor();
        }
        for (String pid : lines("starts")) new ProcessBuilder("kill", "-KILL", pid).start().waitFor();
    }

    private Path config(String agent, String state) throws IOException {
        return Files.writeString(dir.resolve(agent + ".yaml"), String.join("\n",
                "agent: { id: " + agent + " }",
                "vault: { address: \"" + vault.address() + "\" }",
                "state: { mount: secret, path: " + state + ", dir: " + dir.resolve(agent + "-state") + " }",
                "audit: { file: " + dir.resolve(agent + "-audit.jsonl") + ", hmac_key_file: " + creds.resolve("hmac.key") + " }",
                "fleet: { heartbeat: 1s, member_timeout: 5m }",
                "metrics: { listen: off }",
                "policy: " + policy,
                ""));
    }

    private Map<String, String> env() {
        return Map.of("VAULT_TOKEN", vault.rootToken());
    }

    private Process exec(String... command) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                "io.keyward.cli.Main", "exec", "-c", dir.resolve("payments-exec.yaml").toString(),
                "--env", "DB_PASSWORD=db", "--env", "API_KEY=api.key", "--min-uptime", "1s", "--stop-timeout", "5s", "--"));
        cmd.addAll(List.of(command));
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("exec.out").toFile()))
                .redirectError(ProcessBuilder.Redirect.appendTo(dir.resolve("exec.err").toFile()));
        pb.environment().putAll(env());
        Process p = pb.start();
        started.add(p);
        return p;
    }

    private String live(String path) {
        return Leaks.track(vault.admin("GET", "secret/data/" + path, null).path("data").path("data").path("password").asString());
    }

    private List<String> lines(String name) throws IOException {
        Path f = dir.resolve(name);
        return Files.exists(f) ? Files.readAllLines(f) : List.of();
    }

    /** The values the issuer was told to revoke, in order. */
    private List<String> revoked() throws IOException {
        Path f = creds.resolve("revoked");
        return Files.exists(f) ? Files.readAllLines(f).stream().filter(l -> !l.isEmpty()).toList() : List.of();
    }

    private String seen(String name) throws IOException {
        return Files.readString(creds.resolve(name));
    }

    private JsonNode status(String secret) throws Exception {
        for (JsonNode row : JSON.readTree(CliTest.run(env(), "status", "--output", "json", "-c", operator.toString()).out())) {
            if (row.path("secret").asString().equals(secret)) return row;
        }
        throw new AssertionError("no status row for " + secret);
    }

    @Test
    void theAppGetsItsSecretsInItsEnvironment_isRestartedOnANewVersion_andAFailedRestartKeepsTheOldKey() throws Exception {
        String v1 = live(dbPath);
        exec = exec(app.toString());
        await().atMost(Duration.ofSeconds(30)).until(() -> lines("starts").size() == 1 && Files.exists(creds.resolve("seen-api")));
        assertThat(seen("seen-db")).isEqualTo(v1);
        assertThat(seen("seen-api")).hasSize(24);
        String pid = lines("starts").get(0);
        String cmdline = new String(Files.readAllBytes(Path.of("/proc", pid, "cmdline")), StandardCharsets.UTF_8);
        assertThat(cmdline).as("values are never on the command line").doesNotContain(v1).contains(app.toString());
        assertThat(dir.resolve("vault-token-seen")).as("keyward's own Vault token is kept from the app").doesNotExist();

        // A rotation by another agent: the app is restarted once with the new value, then the old value is revoked.
        CliTest.Run rotated = CliTest.run(env(), "rotate", "db", "--now", "-c", operator.toString());
        assertThat(rotated.code()).as(rotated.out() + rotated.err()).isZero();
        String v2 = live(dbPath);
        await().atMost(Duration.ofSeconds(30)).until(() -> lines("starts").size() == 2 && seen("seen-db").equals(v2));
        assertThat(lines("signals")).containsExactly("term " + pid);
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            CliTest.run(env(), "resume", "-c", operator.toString());
            return status("db").path("phase").asString().equals("retired");
        });
        assertThat(revoked()).containsExactly(v1);

        // The app now exits at once with any password but v2: it runs again with v2, and v2 is not retired.
        Files.writeString(creds.resolve("only"), v2);
        CliTest.run(env(), "rotate", "db", "--now", "-c", operator.toString());
        String v3 = live(dbPath);
        await().atMost(Duration.ofSeconds(30)).until(() -> lines("starts").size() >= 4);
        assertThat(Files.readString(dir.resolve("exec.err"))).contains("exited with 7 within 1 s of its start")
                .contains("starting it again with the values it had");
        await().atMost(Duration.ofSeconds(10)).until(() -> seen("seen-db").equals(v2));
        CliTest.run(env(), "resume", "-c", operator.toString());
        assertThat(status("db").path("phase").asString()).as("v2 is still held, so it is not retired").isNotEqualTo("retired");
        assertThat(revoked()).containsExactly(v1);
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.readString(dir.resolve("exec.err")).contains("degraded db v3"));
        assertThat(lines("starts")).as("one try per watch: the new process, then the old values again").hasSize(4);
        assertThat(Files.readString(dir.resolve("payments-exec-audit.jsonl"))).doesNotContain(v2).doesNotContain(v3);

        // Once the app takes any password again, the delivery tried again brings it v3; then v2 is retired.
        Files.delete(creds.resolve("only"));
        await().atMost(Duration.ofSeconds(60)).until(() -> seen("seen-db").equals(v3));
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            CliTest.run(env(), "resume", "-c", operator.toString());
            return status("db").path("phase").asString().equals("retired");
        });

        assertThat(revoked()).containsExactly(v1, v2);

        // Signals reach the app; SIGTERM stops it, and keyward exits with its code.
        String last = lines("starts").get(lines("starts").size() - 1);
        new ProcessBuilder("kill", "-HUP", String.valueOf(exec.pid())).start().waitFor();
        await().atMost(Duration.ofSeconds(10)).until(() -> lines("signals").contains("hup " + last));
        new ProcessBuilder("kill", "-TERM", String.valueOf(exec.pid())).start().waitFor();
        assertThat(exec.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(exec.exitValue()).isZero();
        assertThat(lines("signals")).contains("term " + last);

        // keyward exec started again: the app is started again, with the live values.
        exec = exec(app.toString());
        await().atMost(Duration.ofSeconds(30)).until(() -> !lines("starts").get(lines("starts").size() - 1).equals(last));
        await().atMost(Duration.ofSeconds(10)).until(() -> seen("seen-db").equals(v3));
        assertThat(exec.isAlive()).isTrue();

        // Killed with its app (a host crash), then started again at once: its membership record is fresh and
        // its ledger shows the app served, so READY comes before the first look, and that look starts the app.
        String beforeCrash = lines("starts").get(lines("starts").size() - 1);
        exec.destroyForcibly().waitFor();
        new ProcessBuilder("kill", "-KILL", beforeCrash).start().waitFor();
        exec = exec(app.toString());
        await().atMost(Duration.ofSeconds(30)).until(() -> !lines("starts").get(lines("starts").size() - 1).equals(beforeCrash));
        await().atMost(Duration.ofSeconds(10)).until(() -> seen("seen-db").equals(v3));
        Thread.sleep(1500); // past --min-uptime: keyward exec stays, with its app
        assertThat(exec.isAlive()).isTrue();
        for (String name : List.of("exec.out", "exec.err")) {
            assertThat(Files.readString(dir.resolve(name))).doesNotContain(v1).doesNotContain(v2).doesNotContain(v3);
        }
    }

    @Test
    void anAppThatExits_endsKeyward_withItsExitCode() throws Exception {
        Process p = exec("/bin/sh", "-c", "exit 3");
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(3);
    }

    @Test
    void badEnvSpecs_exit2_namingWhatIsWrong() throws Exception {
        CliTest.Run unknown = CliTest.run(env(), "exec", "-c", operator.toString(), "--env", "X=nope", "--", "/bin/true");
        assertThat(unknown.code()).isEqualTo(2);
        assertThat(unknown.err()).contains("--env X=nope: no secret 'nope'").contains("known: db, api");
        CliTest.Run field = CliTest.run(env(), "exec", "-c", operator.toString(), "--env", "X=api.pass", "--", "/bin/true");
        assertThat(field.err()).contains("secret api has no field 'pass'; its fields: key");
        CliTest.Run name = CliTest.run(env(), "exec", "-c", operator.toString(), "--env", "1X=db", "--", "/bin/true");
        assertThat(name.err()).contains("'1X' is not an environment variable name");
        CliTest.Run noCommand = CliTest.run(env(), "exec", "-c", operator.toString(), "--env", "X=db");
        assertThat(noCommand.code()).isEqualTo(2);
        assertThat(noCommand.err()).contains("COMMAND");
    }
}
