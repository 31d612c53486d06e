package io.keyward.target;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keyward.audit.JsonAuditLog;
import io.keyward.policy.Policy;
import io.keyward.rotation.Fingerprinter;
import io.keyward.rotation.Plugins;
import io.keyward.rotation.SecretData;
import io.keyward.rotation.SecretPath;
import io.keyward.testing.Leaks;
import io.keyward.testing.Receiver;
import io.keyward.testing.TestDirs;
import io.keyward.testing.TestVault;
import io.keyward.testing.VaultExtension;
import io.keyward.vault.VaultClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** File formats, signed webhooks, exec reloads and health checks: real files, a real receiver, real programs. */
@ExtendWith(VaultExtension.class)
final class TargetsTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Fingerprinter FP = new Fingerprinter("targets-test-key-0123456789".getBytes());

    private final Path dir = TestDirs.credentials("targets");
    private final Path logs = TestDirs.fresh("targets");
    private TestVault vault;
    private VaultClient store;
    private JsonAuditLog audit;
    private SecretPath signing;
    private String hmacKey;

    @BeforeEach
    void setUp(TestVault vault) throws Exception {
        this.vault = vault;
        audit = JsonAuditLog.open(logs.resolve("audit.jsonl"), "targets", Clock.systemUTC());
        store = VaultClient.connect(vault.rootSettings(), audit, FP, Clock.systemUTC());
        signing = vault.uniquePath("webhook-key");
        hmacKey = Leaks.secret("hmac");
        store.write(signing, SecretData.of("hmac_key", hmacKey), OptionalInt.empty());
    }

    @AfterEach
    void tearDown() {
        store.close();
        audit.close();
    }

    private Targets targets(int atOnce) {
        return new Targets(Targets.defaultHttpClient(), store, FP, Clock.systemUTC(), d -> Thread.sleep(d.toMillis()),
                () -> 0.5, new Policy.Restarts(atOnce, java.time.Duration.ofMillis(20)));
    }

    private Policy.SecretPolicy secret(String... targetLines) throws Exception {
        StringBuilder y = new StringBuilder(String.join("\n",
                "secrets:",
                "  - id: app-db",
                "    path: apps/db",
                "    fields: [password, user]",
                "    generator: { type: random, length: 32 }",
                "    schedule: { every: 30d }",
                "    targets:", ""));
        for (String l : targetLines) y.append("      ").append(l).append('\n');
        return Policy.parse("targets.yaml", y.toString()).secrets().get(0);
    }

    private Plugins.Target target(Policy.SecretPolicy s) {
        return targets(2).of(s.targets().get(0), s.fields());
    }

    private static SecretData value(String password) {
        return SecretData.of(Map.of("password", password, "user", "app"));
    }

    /** A program's standard output, stripped, if it exits 0. */
    private static java.util.Optional<String> output(String... argv) throws Exception {
        Process p = new ProcessBuilder(argv).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        return p.waitFor() == 0 ? java.util.Optional.of(out) : java.util.Optional.empty();
    }

    @Test
    void envFile_isReadBackByAShell_withEveryCharacterIntact() throws Exception {
        Path file = dir.resolve("db.env");
        String password = Leaks.track("p\"$HOME`x`\\y 'z'-" + Leaks.secret("env"));
        target(secret("- { id: app, type: file, path: " + file + ", format: env }")).deliver("app-db", 1, value(password));

        assertThat(Files.readString(file)).startsWith("PASSWORD=\"").contains("\nUSER=\"app\"\n");
        Process sh = new ProcessBuilder("/bin/sh", "-c", ". " + file + "; printf %s \"$PASSWORD\"").start();
        assertThat(new String(sh.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo(password);
        assertThat(sh.waitFor()).isZero();
    }

    @Test
    void jsonPropertiesAndTemplateFiles_holdTheFields() throws Exception {
        String password = Leaks.secret("fmt") + "=:#\\ä";
        Path json = dir.resolve("db.json");
        Path props = dir.resolve("db.properties");
        Path conf = dir.resolve("db.conf");
        target(secret("- { id: a, type: file, path: " + json + ", format: json }")).deliver("app-db", 4, value(password));
        target(secret("- { id: b, type: file, path: " + props + ", format: properties }")).deliver("app-db", 4, value(password));
        target(secret("- { id: c, type: file, path: " + conf + ", format: template, template: \"u={{user}} p={{password}} v{{version}}\" }"))
                .deliver("app-db", 4, value(password));

        JsonNode j = JSON.readTree(Files.readString(json));
        assertThat(j.get("password").asString()).isEqualTo(password);
        Properties p = new Properties();
        try (var r = Files.newBufferedReader(props)) {
            p.load(r);
        }
        assertThat(p.getProperty("password")).isEqualTo(password);
        assertThat(p.getProperty("user")).isEqualTo("app");
        assertThat(Files.readString(props)).doesNotStartWith("#");
        assertThat(Files.readString(conf)).isEqualTo("u=app p=" + password + " v4");
    }

    @Test
    void aFormatMissingAField_isRefused_andTheFileStays() throws Exception {
        Path file = dir.resolve("partial.env");
        Plugins.Target t = target(secret("- { id: app, type: file, path: " + file + ", format: env }"));
        t.deliver("app-db", 1, value(Leaks.secret("first")));
        String before = Files.readString(file);

        assertThatThrownBy(() -> t.deliver("app-db", 2, SecretData.of("password", Leaks.secret("lonely"))))
                .isInstanceOf(Plugins.Rejected.class).hasMessageContaining("field 'user'");
        assertThat(Files.readString(file)).isEqualTo(before);
    }

    /**
     * Another account than the one running the tests: {@code keyward-test} (which {@code .ci/run}
     * creates), else {@code nobody}. As root the file must end up with its owner and group; as
     * anyone else the change is refused with a one-line error and the old file stays.
     */
    @Test
    void ownerAndGroup_areSetToAnotherAccount_orRefusedWithoutTheRight() throws Exception {
        String other = output("id", "-un", "keyward-test").isPresent() ? "keyward-test" : "nobody";
        String otherGroup = output("id", "-gn", other).orElseThrow(() -> new AssertionError(
                "neither keyward-test nor nobody exists on this machine: run .ci/run as root once, or create one"));
        String me = System.getProperty("user.name");
        assertThat(other).isNotEqualTo(me);
        Path file = dir.resolve("owned");
        Files.deleteIfExists(file);
        Plugins.Target owned = target(secret("- { id: app, type: file, path: " + file + ", owner: " + other
                + ", group: " + otherGroup + " }"));
        if (me.equals("root")) {
            owned.deliver("app-db", 1, value(Leaks.secret("own")));
            var attrs = Files.readAttributes(file, java.nio.file.attribute.PosixFileAttributes.class);
            assertThat(attrs.owner().getName()).isEqualTo(other);
            assertThat(attrs.group().getName()).isEqualTo(otherGroup);
            assertThat(java.nio.file.attribute.PosixFilePermissions.toString(attrs.permissions())).isEqualTo("rw-------");
        } else {
            assertThatThrownBy(() -> owned.deliver("app-db", 1, value(Leaks.secret("own"))))
                    .hasMessageContaining("cannot give " + file + " owner " + other).hasMessageContaining("CAP_CHOWN")
                    .hasMessageNotContaining("\n");
            assertThat(file).doesNotExist();
        }
        try (var left = Files.list(dir)) {
            assertThat(left.map(Path::getFileName).map(Path::toString)).noneMatch(n -> n.startsWith(".owned"));
        }

        Plugins.Target nobody = target(secret("- { id: x, type: file, path: " + dir.resolve("x") + ", owner: no-such-user-kw }"));
        assertThatThrownBy(() -> nobody.deliver("app-db", 1, value(Leaks.secret("own"))))
                .isInstanceOf(Plugins.Rejected.class).hasMessageContaining("no such user or group 'no-such-user-kw'");
    }

    @Test
    void webhook_isSignedAndIdempotent_andCarriesNoValueUnlessAsked() throws Exception {
        try (Receiver r = Receiver.start(hmacKey)) {
            String password = Leaks.secret("hook");
            target(secret("- { id: hook, type: webhook, url: \"" + r.url("/rotated") + "\", signing_key: { path: "
                    + signing.path() + " } }")).deliver("app-db", 7, value(password));
            target(secret("- { id: full, type: webhook, url: \"" + r.url("/full") + "\", include_value: true, signing_key: { path: "
                    + signing.path() + " } }")).deliver("app-db", 7, value(password));

            assertThat(r.requests()).hasSize(2).allSatisfy(q -> {
                assertThat(q.signed()).as("signature checks out").isTrue();
                assertThat(q.idempotencyKey()).isEqualTo("app-db:7");
            });
            JsonNode plain = JSON.readTree(r.requests().get(0).body());
            assertThat(plain.get("version").asInt()).isEqualTo(7);
            assertThat(plain.get("fingerprint").asString()).isEqualTo(FP.of(value(password)));
            assertThat(plain.has("fields")).isFalse();
            assertThat(r.requests().get(0).body()).doesNotContain(password);
            assertThat(JSON.readTree(r.requests().get(1).body()).at("/fields/password").asString()).isEqualTo(password);
        }
    }

    /**
     * The signature checked by another implementation: the demo's receiver (Python's hmac), which
     * answers 204 only to a request signed with its key and a fresh timestamp, else 401.
     */
    @Test
    void webhook_signatureIsAcceptedByAPythonReceiver_andRefusedUnderAnotherKey() throws Exception {
        Path keyFile = dir.resolve("receiver.key");
        Files.writeString(keyFile, hmacKey + "\n");
        Path log = logs.resolve("receiver.log");
        int port;
        try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
            port = free.getLocalPort();
        }
        Process receiver = new ProcessBuilder("python3", Path.of("demo/receiver.py").toAbsolutePath().toString(),
                String.valueOf(port), keyFile.toString(), log.toString()).redirectErrorStream(true)
                .redirectOutput(logs.resolve("receiver.out").toFile()).start();
        try {
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
            while (true) {
                try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
                    break;
                } catch (java.io.IOException notYet) {
                    assertThat(receiver.isAlive()).as("the receiver runs: " + logs.resolve("receiver.out")).isTrue();
                    assertThat(System.nanoTime()).as("the receiver listens within 10 s").isLessThan(deadline);
                    Thread.sleep(50);
                }
            }
            String url = "http://127.0.0.1:" + port + "/rotated";
            String password = Leaks.secret("py");
            target(secret("- { id: hook, type: webhook, url: \"" + url + "\", signing_key: { path: " + signing.path() + " } }"))
                    .deliver("app-db", 7, value(password));
            assertThat(Files.readString(log)).contains(" app-db v7 " + FP.of(value(password)));

            SecretPath other = vault.uniquePath("other-webhook-key");
            store.write(other, SecretData.of("hmac_key", Leaks.secret("other")), OptionalInt.empty());
            Plugins.Target wrong = target(secret("- { id: hook, type: webhook, url: \"" + url + "\", signing_key: { path: "
                    + other.path() + " } }"));
            assertThatThrownBy(() -> wrong.deliver("app-db", 8, value(password))).isInstanceOf(Plugins.Rejected.class)
                    .hasMessageContaining("HTTP 401");
            assertThat(Files.readString(log)).doesNotContain(" v8 ");
        } finally {
            receiver.destroy();
            receiver.waitFor();
        }
    }

    @Test
    void webhook_serverErrorIsRetryable_clientErrorIsADefiniteNo_wrongKeyIsCaught() throws Exception {
        try (Receiver r = Receiver.start("not-the-key")) {
            Plugins.Target t = target(secret("- { id: hook, type: webhook, url: \"" + r.url("/x") + "\", signing_key: { path: "
                    + signing.path() + " } }"));
            r.answer(503);
            assertThatThrownBy(() -> t.deliver("app-db", 1, value(Leaks.secret("w")))).isInstanceOf(java.io.IOException.class)
                    .isNotInstanceOf(Plugins.Rejected.class).hasMessageContaining("HTTP 503");
            r.answer(400);
            assertThatThrownBy(() -> t.deliver("app-db", 1, value(Leaks.secret("w")))).isInstanceOf(Plugins.Rejected.class);
            assertThat(r.requests()).noneMatch(Receiver.Request::signed);
        }
    }

    @Test
    void exec_runsTheCommandWithoutTheValue_andAFailingExitIsAnError() throws Exception {
        Path out = dir.resolve("exec-env");
        Path script = script("exec.sh", "echo \"$KEYWARD_SECRET_ID $KEYWARD_VERSION $KEYWARD_TARGET\" > " + out
                + "\nenv | grep -c '" + "password" + "' || true\n");
        target(secret("- { id: reload, type: exec, command: [" + script + "] }")).deliver("app-db", 3, value(Leaks.secret("x")));
        assertThat(Files.readString(out).strip()).isEqualTo("app-db 3 reload");

        Plugins.Target failing = target(secret("- { id: bad, type: exec, command: [/bin/sh, -c, \"exit 3\"] }"));
        assertThatThrownBy(() -> failing.deliver("app-db", 1, value(Leaks.secret("x")))).hasMessageContaining("exited with 3");
        Plugins.Target slow = target(secret("- { id: slow, type: exec, command: [/bin/sleep, \"5\"], timeout: 300ms }"));
        assertThatThrownBy(() -> slow.deliver("app-db", 1, value(Leaks.secret("x")))).hasMessageContaining("did not finish within 300 ms");
        Plugins.Target shell = target(secret("- { id: sh, type: exec, shell: true, command: \"test $KEYWARD_VERSION = 9 && touch "
                + dir.resolve("shell-ran") + "\" }"));
        shell.deliver("app-db", 9, value(Leaks.secret("x")));
        assertThat(dir.resolve("shell-ran")).exists();
    }

    /**
     * Each reload waits a random part of the policy's splay before it takes a place in the
     * restart budget, so a wave of rotations does not restart every service at once.
     */
    @Test
    void exec_waitsARandomPartOfTheSplay_readFromThePolicy() throws Exception {
        Policy policy = Policy.parse("splay.yaml", String.join("\n",
                "defaults: { restarts: { at_once: 2, splay: 8s } }",
                "secrets:",
                "  - id: app-db",
                "    path: apps/db",
                "    fields: [password, user]",
                "    generator: { type: random, length: 32 }",
                "    schedule: { every: 30d }",
                "    targets: [{ id: reload, type: exec, command: [/bin/true] }, { id: app, type: file, path: "
                        + dir.resolve("splay-file") + " }]",
                ""));
        List<java.time.Duration> slept = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
        java.util.Iterator<Double> draws = List.of(0.25, 0.75).iterator();
        Targets t = new Targets(Targets.defaultHttpClient(), store, FP, Clock.systemUTC(), slept::add, draws::next,
                policy.restarts());
        Policy.SecretPolicy s = policy.secrets().get(0);
        Plugins.Target reload = t.of(s.targets().get(0), s.fields());
        reload.deliver("app-db", 1, value(Leaks.secret("splay")));
        reload.deliver("app-db", 2, value(Leaks.secret("splay")));
        t.of(s.targets().get(1), s.fields()).deliver("app-db", 2, value(Leaks.secret("splay")));
        assertThat(slept).as("a file is written at once; each reload waits its share of 8 s")
                .containsExactly(java.time.Duration.ofSeconds(2), java.time.Duration.ofSeconds(6));
    }

    @Test
    void exec_restartBudget_letsOnlyNRunAtOnce() throws Exception {
        Path lock = dir.resolve("budget-lock");
        Path overlaps = dir.resolve("budget-overlaps");
        Files.deleteIfExists(overlaps);
        Path script = script("budget.sh", "if mkdir " + lock + " 2>/dev/null; then sleep 0.2; rmdir " + lock
                + "; else echo overlap >> " + overlaps + "; fi\n");
        Targets shared = targets(1);
        Policy.SecretPolicy s = secret("- { id: reload, type: exec, command: [" + script + "] }");
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Object>> runs = pool.invokeAll(java.util.Collections.nCopies(4, () -> {
                shared.of(s.targets().get(0), s.fields()).deliver("app-db", 1, value("v-budget-test"));
                return null;
            }));
            for (Future<Object> f : runs) f.get();
        } finally {
            pool.shutdown();
        }
        assertThat(overlaps).doesNotExist();
    }

    @Test
    void healthCheck_passesOnlyOnce2xx_andFailsAsUnhealthyWhenItNeverDoes() throws Exception {
        try (Receiver health = Receiver.start(null)) {
            Path file = dir.resolve("healthy");
            Plugins.Target t = target(secret("- { id: app, type: file, path: " + file + ", health: { url: \""
                    + health.url("/health") + "\", wait: 0s } }"));
            health.answer(503);
            assertThatThrownBy(() -> t.deliver("app-db", 1, value(Leaks.secret("h")))).isInstanceOf(Plugins.Unhealthy.class)
                    .hasMessageContaining("HTTP 503").matches(e -> !((Plugins.Unhealthy) e).keyRefused(), "not a refused key");
            // A 401 says the consumer's key is refused: the daemon then tries the live key against DocBits at once.
            health.answer(401);
            assertThatThrownBy(() -> t.deliver("app-db", 1, value(Leaks.secret("h")))).isInstanceOf(Plugins.Unhealthy.class)
                    .hasMessageContaining("HTTP 401 (the consumer's key is refused)")
                    .matches(e -> ((Plugins.Unhealthy) e).keyRefused(), "a refused key");
            health.answer(204);
            t.deliver("app-db", 2, value(Leaks.secret("h")));

            Plugins.Target cmd = target(secret("- { id: app2, type: file, path: " + dir.resolve("h2")
                    + ", health: { command: [/bin/sh, -c, \"test $KEYWARD_VERSION -gt 1\"], wait: 0s } }"));
            assertThatThrownBy(() -> cmd.deliver("app-db", 1, value(Leaks.secret("h")))).isInstanceOf(Plugins.Unhealthy.class);
            cmd.deliver("app-db", 2, value(Leaks.secret("h")));
        }
    }

    private Path script(String name, String body) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, "#!/bin/sh\n" + body);
        p.toFile().setExecutable(true);
        return p;
    }
}
