package io.keyward.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyward.testing.KeywardProcess;
import io.keyward.testing.TestDirs;
import io.keyward.testing.TestPorts;
import io.keyward.testing.TestVault;
import io.keyward.testing.VaultExtension;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The dashboard and the alert rules against a real Prometheus (Debian's binary, on loopback, a
 * 1 s scrape) scraping a real {@code keyward run} that rotates secrets against the real OpenBao:
 * every expression parses, every rule evaluates without error, and every panel returns at least
 * one series (the run rotates and delivers, refuses a value and keeps one rotation in flight).
 */
@ExtendWith(VaultExtension.class)
final class LivePrometheusTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private final HttpClient http = HttpClient.newHttpClient();
    private KeywardProcess keyward;
    private Process prometheus;

    @AfterEach
    void tearDown() throws Exception {
        if (keyward != null) keyward.close();
        if (prometheus != null && prometheus.isAlive()) prometheus.destroyForcibly().waitFor();
    }

    @Test
    void everyDashboardQueryAndAlertRule_worksOnARunningKeyward(TestVault vault) throws Exception {
        String run = vault.uniqueName("prom");
        Path work = TestDirs.credentials(run);
        Path logs = TestDirs.fresh(run);
        int metricsPort = TestPorts.free();
        StringBuilder policy = new StringBuilder("secrets:\n");
        // a and b rotate and deliver, refused fails verification, slow stays in flight (verifying) through the test.
        for (String n : List.of("a", "b", "refused", "slow")) {
            policy.append("  - id: ").append(run).append('-').append(n).append('\n')
                    .append("    path: ").append(run).append('/').append(n).append('\n')
                    .append("    generator: { type: random, length: 24 }\n")
                    .append("    schedule: { every: 1m }\n")
                    .append("    grace: 0s\n")
                    .append("    watch: 5s\n")
                    .append("    verify: [{ type: command, command: ").append(n.equals("refused") ? "[\"false\"]"
                            : n.equals("slow") ? "[sleep, \"600\"], timeout: 10m" : "[\"true\"]").append(" }]\n")
                    .append("    targets: [{ id: app, type: file, path: ").append(work.resolve(n)).append(" }]\n");
        }
        Path policyFile = Files.writeString(work.resolve("policy.yaml"), policy.toString());
        Path config = Files.writeString(work.resolve("keyward.yaml"), String.join("\n",
                "agent: { id: " + run + " }",
                "vault: { address: \"" + vault.address() + "\" }",
                "state: { mount: secret, path: " + run + "-state, dir: " + work.resolve("state") + " }",
                "fleet: { heartbeat: 1s }",
                "policy: " + policyFile,
                "metrics: { listen: 127.0.0.1:" + metricsPort + " }",
                "audit: { file: " + logs.resolve("audit.jsonl") + ", hmac_key_file: " + work.resolve("hmac.key") + " }",
                ""));
        keyward = new KeywardProcess("keyward", config, logs, Map.of("VAULT_TOKEN", vault.rootToken()));
        keyward.start();
        keyward.awaitReady(60);

        int promPort = TestPorts.free();
        Path promDir = TestDirs.fresh(run + "-prometheus");
        Path promConfig = Files.writeString(promDir.resolve("prometheus.yml"), String.join("\n",
                "global: { scrape_interval: 1s, evaluation_interval: 1s }",
                "rule_files: [\"" + Path.of("config/monitoring/prometheus-alerts.yml").toAbsolutePath() + "\"]",
                "scrape_configs:",
                "  - job_name: keyward",
                "    static_configs: [{ targets: [\"127.0.0.1:" + metricsPort + "\"] }]",
                ""));
        try {
            prometheus = new ProcessBuilder("prometheus", "--config.file=" + promConfig, "--storage.tsdb.path=" + promDir.resolve("data"),
                    "--web.listen-address=127.0.0.1:" + promPort, "--log.level=warn")
                    .redirectErrorStream(true).redirectOutput(promDir.resolve("prometheus.log").toFile()).start();
        } catch (IOException e) {
            throw new AssertionError("prometheus is not installed (Debian's prometheus package; `.ci/run` installs it)", e);
        }
        URI api = URI.create("http://127.0.0.1:" + promPort);
        awaitTrue(Duration.ofSeconds(30), () -> status(api.resolve("/-/ready")) == 200, "Prometheus ready: " + promDir);
        // Enough samples for rates and increases: 12 scrapes, with the rotations of the first look in them.
        awaitTrue(Duration.ofSeconds(60), () -> series(api, "count_over_time(up{job=\"keyward\"}[1m]) >= 12") > 0
                && series(api, "keyward_rotations_total{outcome=\"completed\"} >= 2") > 0
                && series(api, "keyward_verify_failures_total > 0") > 0
                && series(api, "keyward_rotation_phase{phase=\"applied\"} == 1") > 0, "12 scrapes of keyward with its rotations");

        JsonNode dashboard = JSON.readTree(Files.readString(Path.of("config/monitoring/grafana-dashboard.json")));
        Map<String, String> panels = new LinkedHashMap<>();
        collect(dashboard.path("panels"), panels);
        assertThat(panels).hasSizeGreaterThan(15);
        List<String> empty = new ArrayList<>();
        StringBuilder report = new StringBuilder("dashboard panels against a live Prometheus:\n");
        for (Map.Entry<String, String> p : panels.entrySet()) {
            JsonNode answer = query(api, p.getValue());
            assertThat(answer.path("status").asString()).as(p.getKey() + ": " + p.getValue() + " -> " + answer).isEqualTo("success");
            int n = answer.path("data").path("result").size();
            report.append(String.format("  %-55s %d series%n", p.getKey(), n));
            if (n == 0) empty.add(p.getKey() + " (" + p.getValue() + ")");
        }
        Files.writeString(logs.resolve("panels.txt"), report.toString());
        assertThat(empty).as("panels without data in a run that rotates, delivers and refuses a value").isEmpty();

        // The rules: each expression answers a query, and Prometheus' own evaluation of each found no error.
        JsonNode rules = get(api.resolve("/api/v1/rules"));
        List<JsonNode> all = new ArrayList<>();
        rules.path("data").path("groups").forEach(g -> g.path("rules").forEach(all::add));
        assertThat(all).hasSizeGreaterThanOrEqualTo(9);
        awaitTrue(Duration.ofSeconds(10), () -> {
            List<JsonNode> now = new ArrayList<>();
            get(api.resolve("/api/v1/rules")).path("data").path("groups").forEach(g -> g.path("rules").forEach(now::add));
            return now.stream().allMatch(r -> r.path("lastEvaluation").asString("").length() > 0
                    && !r.path("lastEvaluation").asString().startsWith("0001"));
        }, "every rule evaluated once");
        for (JsonNode r : all) {
            assertThat(query(api, r.path("query").asString()).path("status").asString()).as(r.path("name").asString()).isEqualTo("success");
        }
        get(api.resolve("/api/v1/rules")).path("data").path("groups").forEach(g -> g.path("rules").forEach(r ->
                assertThat(r.path("health").asString()).as(r.path("name").asString() + ": " + r.path("lastError")).isEqualTo("ok")));
    }

    /** Prometheus queries of the dashboard's panels (the Loki panel excluded), by panel title. */
    private static void collect(JsonNode panels, Map<String, String> out) {
        for (JsonNode p : panels) {
            int i = 0;
            for (JsonNode t : p.path("targets")) {
                String expr = t.path("expr").asString("");
                if (expr.isEmpty() || expr.startsWith("{job=")) continue; // LogQL
                out.put(p.path("title").asString() + (i++ == 0 ? "" : " #" + i), expr);
            }
            collect(p.path("panels"), out);
        }
    }

    private int series(URI api, String promql) throws Exception {
        JsonNode a = query(api, promql);
        return a.path("data").path("result").size();
    }

    private JsonNode query(URI api, String promql) throws Exception {
        return get(api.resolve("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8)));
    }

    private JsonNode get(URI uri) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        return JSON.readTree(r.body());
    }

    private int status(URI uri) {
        try {
            return http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        }
    }

    @FunctionalInterface
    private interface Check {
        boolean ok() throws Exception;
    }

    private static void awaitTrue(Duration within, Check check, String what) throws Exception {
        long until = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < until) {
            if (check.ok()) return;
            Thread.sleep(250);
        }
        throw new AssertionError("not within " + within.toSeconds() + " s: " + what);
    }
}
