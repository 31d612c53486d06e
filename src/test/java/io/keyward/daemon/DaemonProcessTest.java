package io.keyward.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyward.testing.KeywardProcess;
import io.keyward.testing.Leaks;
import io.keyward.testing.TestDirs;
import io.keyward.testing.TestPorts;
import io.keyward.testing.TestVault;
import io.keyward.testing.VaultExtension;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A real keyward process (`keyward run`) against the real OpenBao, with a Unix datagram socket
 * standing in for systemd's NOTIFY_SOCKET: READY, watchdog pings, STATUS, reload on SIGHUP with a
 * good and a bad policy, the metrics listener, and a SIGTERM in the middle of a rotation.
 */
@ExtendWith(VaultExtension.class)
final class DaemonProcessTest {

    private TestVault vault;
    private Path work;
    private Path logs;
    private String run;
    private KeywardProcess child;
    private int port;

    @BeforeEach
    void setUp(TestVault vault) throws IOException {
        this.vault = vault;
        this.run = "d" + UUID.randomUUID().toString().substring(0, 8);
        this.work = TestDirs.credentials("daemon-" + run);
        this.logs = TestDirs.fresh("daemon-" + run);
        port = TestPorts.free();
    }

    @AfterEach
    void tearDown() throws Exception {
        if (child != null) child.close();
    }

    @Test
    void tellsSystemdReady_pingsTheWatchdog_servesMetrics_andReloadsOnSighup() throws Exception {
        Path policy = writePolicy(List.of("a"), false);
        child = start(writeConfig(policy));

        String ready = awaitState("READY=1", 60);
        assertThat(ready).contains("STATUS=1 secret");
        awaitState("WATCHDOG=1", 10);

        HttpResponse<String> health = get("/healthz");
        assertThat(health.statusCode()).isEqualTo(200);
        HttpResponse<String> readyz = get("/readyz");
        assertThat(readyz.statusCode()).as(readyz.body()).isEqualTo(200);
        child.awaitFile(work.resolve("targets/a"), 60);
        String metrics = awaitMetric("keyward_rotations_total{outcome=\"completed\"}");
        assertThat(metrics).contains("keyward_secret_age_seconds{secret=\"" + run + "-a\"}")
                .contains("keyward_vault_request_duration_seconds_count{operation=\"read\"")
                .contains("keyward_deliveries_total{result=\"ok\",secret=\"" + run + "-a\",target=\"app\"} 1.0")
                .contains("keyward_vault_token_ttl_seconds -1.0");

        assertMonitoringUsesOnlyServedMetrics(metrics);

        // It is a member of the fleet: its record names the secret and its target; what it delivered is in its ledger.
        tools.jackson.databind.JsonNode member = vault.admin("GET", "secret/data/daemon-state/" + run + "/members/"
                + "daemon-agent", null).path("data").path("data");
        String served = vault.admin("GET", "secret/data/daemon-state/" + run + "/serving/daemon-agent", null)
                .path("data").path("data").path("secrets").asString();
        assertThat(served).startsWith(run + "-a\tapp\t");
        assertThat(member.path("serving").asString()).isNotBlank();
        assertThat(member.path("daemon").asBoolean()).isTrue();
        assertThat(member.path("pid").asLong()).isEqualTo(child.pid());
        assertThat(java.time.Instant.parse(member.path("heartbeat").asString())).isAfter(java.time.Instant.now().minusSeconds(60));
        assertThat(Files.readString(work.resolve("state/ledger/daemon-agent/deliveries.jsonl"))).contains("\"secret\":\"" + run + "-a\"", "\"app\"", "\"vault\":\"kw-");

        // A good policy: a second secret appears and is rotated.
        writePolicy(List.of("a", "b"), false);
        signal("HUP");
        awaitState("RELOADING=1", 10);
        assertThat(awaitState("READY=1", 30)).contains("STATUS=2 secrets");
        child.awaitFile(work.resolve("targets/b"), 60);
        assertThat(awaitMetric("keyward_policy_reloads_total 1.0")).contains("keyward_secrets 2.0");

        // A bad policy: refused, every problem logged, the last good one stays in force.
        Files.writeString(policy, "secrets:\n  - id: " + run + "-c\n    path: daemon/" + run + "/c\n    schedule: { every: soon }\n");
        signal("HUP");
        awaitState("RELOADING=1", 10);
        assertThat(awaitState("READY=1", 30)).contains("policy reload rejected");
        assertThat(awaitMetric("keyward_policy_reload_failures_total 1.0")).contains("keyward_secrets 2.0");
        assertThat(child.alive()).isTrue();
        assertThat(get("/readyz").statusCode()).isEqualTo(200);
        assertThat(Files.readString(logs.resolve("keyward.err"))).contains("policy reload rejected")
                .contains("2 problems").contains("has no generator").contains("'soon' is not a duration");

        signal("TERM");
        awaitState("STOPPING=1", 10);
        assertThat(child.awaitExit(30)).isZero();
        for (String n : List.of("a", "b")) {
            Leaks.track(vault.admin("GET", "secret/data/daemon/" + run + "/" + n, null).path("data").path("data")
                    .path("password").asString());
        }
    }

    @Test
    void sigtermInTheMiddleOfARotation_finishesTheStep_exitsCleanly_andTheJournalResumes() throws Exception {
        Path policy = writePolicy(List.of("slow"), true);
        Path config = writeConfig(policy);
        child = start(config);
        awaitState("READY=1", 60);
        child.awaitFile(work.resolve("verifying"), 60);

        signal("TERM");
        awaitState("STOPPING=1", 10);
        assertThat(child.awaitExit(30)).isZero();
        String err = Files.readString(logs.resolve("keyward.err"));
        assertThat(err).contains("stopped at verified").contains("stopped");

        assertThat(journalPhase("slow")).isEqualTo("verified");
        assertThat(work.resolve("targets/slow")).doesNotExist();

        assertThat(vault.admin("GET", "secret/data/daemon-state/" + run + "/inflight/" + run + "-slow", null)
                .path("data").path("data").path("rotation").asString()).as("in-flight marker").isNotEmpty();

        // The next start finishes the rotation before it reports READY.
        child = start(config);
        assertThat(awaitState("READY=1", 60)).contains("1 recovered");
        assertThat(journalPhase("slow")).isEqualTo("retired");
        HttpResponse<String> marker = HttpClient.newHttpClient().send(HttpRequest.newBuilder(vault.address().resolve(
                        "/v1/secret/metadata/daemon-state/" + run + "/inflight/" + run + "-slow"))
                .header("X-Vault-Token", vault.rootToken()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(marker.statusCode()).as("the in-flight marker is gone").isEqualTo(404);
        String live = vault.admin("GET", "secret/data/daemon/" + run + "/slow", null).path("data").path("data").path("password").asString();
        Leaks.track(live);
        assertThat(Files.readString(work.resolve("targets/slow")).strip().equals(live)).isTrue();
        signal("TERM");
        assertThat(child.awaitExit(30)).isZero();
    }

    /** Every keyward_ metric the Grafana dashboard and the alert rules use is served by the running agent. */
    private static void assertMonitoringUsesOnlyServedMetrics(String scrape) throws IOException {
        Path dir = Path.of("config/monitoring");
        JsonNode dashboard = YAML.readTree(Files.readString(dir.resolve("grafana-dashboard.json")));
        JsonNode rules = YAML.readTree(Files.readString(dir.resolve("prometheus-alerts.yml")));
        List<String> expressions = new ArrayList<>();
        dashboard.path("panels").forEach(p -> p.path("targets").forEach(t -> expressions.add(t.path("expr").asString())));
        rules.path("groups").forEach(g -> g.path("rules").forEach(r -> expressions.add(r.path("expr").asString())));
        assertThat(expressions).hasSizeGreaterThan(15);
        java.util.Set<String> served = new java.util.TreeSet<>();
        scrape.lines().forEach(l -> {
            Matcher m = SERIES.matcher(l.startsWith("# TYPE ") ? l.substring(7) : l);
            if (m.lookingAt()) served.add(m.group());
        });
        java.util.Set<String> used = new java.util.TreeSet<>();
        for (String e : expressions) {
            Matcher m = SERIES.matcher(e);
            while (m.find()) used.add(m.group());
        }
        assertThat(used).hasSizeGreaterThan(12);
        used.remove("keyward_rotation_phase"); // has series only while a rotation is in flight (LivePrometheusTest has one)
        used.remove("keyward_docbits_key_valid"); // only for DocBits keys (LiveKeyProbeTest reads it)
        assertThat(served).as("metrics the running agent serves").containsAll(used);
        // The rules name every alert the operations guide promises.
        assertThat(rules.toString()).contains("KeywardRotationOverdue", "KeywardDeliveryFailing", "KeywardVaultTokenExpiring",
                "KeywardRevocableNotRevoked");
        assertThat(dashboard.toString()).contains("\"type\":\"logs\"").contains("keyward-audit");
    }

    private static final Pattern SERIES = Pattern.compile("keyward_[a-z0-9_]+");
    private static final tools.jackson.databind.ObjectMapper YAML = new tools.jackson.dataformat.yaml.YAMLMapper();

    private String journalPhase(String name) throws IOException {
        return vault.admin("GET", "secret/data/daemon-state/" + run + "/journal/" + run + "-" + name, null)
                .path("data").path("data").path("phase").asString();
    }

    private Path writePolicy(List<String> names, boolean slowVerify) throws IOException {
        StringBuilder y = new StringBuilder("secrets:\n");
        for (String n : names) {
            y.append("  - id: ").append(run).append('-').append(n).append('\n')
                    .append("    path: daemon/").append(run).append('/').append(n).append('\n')
                    .append("    fields: [password]\n")
                    .append("    generator: { type: random, length: 32 }\n")
                    .append("    schedule: { every: 30d }\n")
                    .append("    grace: 0s\n");
            if (slowVerify) {
                y.append("    verify:\n      - { type: command, command: [bash, -c, 'touch \"$DAEMON_WORK/verifying\"; sleep 3'], timeout: 20s }\n");
            } else {
                y.append("    verify:\n      - { type: command, command: [\"true\"] }\n");
            }
            y.append("    targets:\n      - { id: app, type: file, path: ").append(work.resolve("targets").resolve(n)).append(" }\n");
        }
        return Files.writeString(work.resolve("policy.yaml"), y.toString());
    }

    private Path writeConfig(Path policy) throws IOException {
        return Files.writeString(work.resolve("keyward.yaml"), String.join("\n",
                "agent: { id: daemon-agent }",
                "vault: { address: \"" + vault.address() + "\" }",
                "state: { mount: secret, path: daemon-state/" + run + ", dir: " + work.resolve("state") + " }",
                "rotation: { lease: 30s }",
                "policy: " + policy,
                "metrics: { listen: 127.0.0.1:" + port + " }",
                "audit:",
                "  file: " + logs.resolve("audit.jsonl"),
                "  hmac_key_file: " + work.resolve("hmac.key"),
                ""));
    }

    private KeywardProcess start(Path config) throws IOException {
        KeywardProcess p = new KeywardProcess("keyward", config, logs, java.util.Map.of("VAULT_TOKEN", vault.rootToken(),
                "WATCHDOG_USEC", "400000", "DAEMON_WORK", work.toString()));
        p.start();
        return p;
    }

    private String awaitState(String state, int seconds) throws IOException {
        return child.await(state, seconds);
    }

    private String tail() throws IOException {
        return child.tail();
    }

    private String awaitMetric(String line) throws Exception {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        String body = "";
        while (System.nanoTime() < until) {
            body = get("/metrics").body();
            if (body.contains(line)) return body;
            Thread.sleep(100);
        }
        throw new AssertionError("/metrics never showed " + line + ":\n" + body);
    }

    private HttpResponse<String> get(String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private void signal(String name) throws Exception {
        child.signal(name);
    }

}
