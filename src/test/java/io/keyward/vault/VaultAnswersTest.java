package io.keyward.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keyward.audit.JsonAuditLog;
import io.keyward.rotation.Retrier;
import io.keyward.rotation.SecretData;
import io.keyward.rotation.SecretPath;
import io.keyward.testing.Leaks;
import io.keyward.testing.TestDirs;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import mockwebserver3.junit5.StartStop;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Answers a healthy Vault rarely gives (5xx, 412, garbage, answers without a version), served by
 * MockWebServer over plain HTTP. Everything a real Vault does is tested against OpenBao instead.
 */
final class VaultAnswersTest {

    private static final String LOOKUP = "{\"data\":{\"accessor\":\"acc-1\",\"ttl\":0,\"renewable\":false}}";

    @StartStop
    private final MockWebServer server = new MockWebServer();
    private final List<Duration> waits = new ArrayList<>();
    private JsonAuditLog audit;
    private VaultClient client;

    private VaultClient connect(int attempts) throws Exception {
        server.enqueue(json(200, LOOKUP));
        audit = JsonAuditLog.open(TestDirs.fresh("answers").resolve("audit.jsonl"), "t", Clock.systemUTC());
        VaultSettings settings = VaultSettings.of(URI.create(server.url("/").toString()),
                        new VaultAuth.Token(Optional.of(Leaks.secret("mock-token")), Optional.empty()))
                .withRetry(new Retrier.Backoff(attempts, Duration.ofMillis(10), Duration.ofMillis(20)))
                .withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(2));
        client = VaultClient.connect(settings, audit, Connected.FINGERPRINTS, Clock.systemUTC(), waits::add);
        server.takeRequest();
        return client;
    }

    @AfterEach
    void close() {
        if (client != null) client.close();
        if (audit != null) audit.close();
    }

    @Test
    void read_http503ThenOk_isRetried() throws Exception {
        VaultClient c = connect(3);
        server.enqueue(json(503, "{\"errors\":[\"Vault is sealed\"]}"));
        server.enqueue(json(200, "{\"data\":{\"data\":{\"k\":\"v\"},\"metadata\":{\"version\":2,\"created_time\":\"2026-01-01T00:00:00Z\"}}}"));

        assertThat(c.read(SecretPath.of("secret", "a")).orElseThrow().version()).isEqualTo(2);
        assertThat(waits).hasSize(1);
    }

    @Test
    void read_http412_isRetried_asVaultsEventualConsistency() throws Exception {
        VaultClient c = connect(3);
        server.enqueue(json(412, "{\"errors\":[\"required index state not present\"]}"));
        server.enqueue(json(200, "{\"data\":{\"data\":{\"k\":\"v\"},\"metadata\":{\"version\":1}}}"));
        assertThat(c.read(SecretPath.of("secret", "a"))).isPresent();
    }

    @Test
    void read_persistent500_failsWithVaultsOwnErrorText() throws Exception {
        VaultClient c = connect(2);
        server.enqueue(json(500, "{\"errors\":[\"internal error: storage backend unavailable\"]}"));
        server.enqueue(json(500, "{\"errors\":[\"internal error: storage backend unavailable\"]}"));

        assertThatThrownBy(() -> c.read(SecretPath.of("secret", "app/db")))
                .isInstanceOf(VaultAccessException.class)
                .hasMessage("Vault read of secret/data/app/db at " + server.url("/").toString().replaceAll("/$", "")
                        + " failed: HTTP 500: internal error: storage backend unavailable");
        assertThat(server.getRequestCount()).isEqualTo(3);
    }

    @Test
    void write_http500_isNotRepeated() throws Exception {
        VaultClient c = connect(3);
        server.enqueue(json(500, "{\"errors\":[\"boom\"]}"));
        String value = Leaks.secret("not-repeated");

        assertThatThrownBy(() -> c.write(SecretPath.of("secret", "a"), SecretData.of("k", value), OptionalInt.of(1)))
                .isInstanceOf(VaultAccessException.class).hasMessageContaining("HTTP 500: boom");
        assertThat(server.getRequestCount()).isEqualTo(2);
        assertThat(waits).isEmpty();
    }

    @Test
    void write_http500FromALeaderLosingItsLeadership_mayHaveLanded_andIsAuditedUnknown() throws Exception {
        VaultClient c = connect(3);
        server.enqueue(json(500, "{\"errors\":[\"leadership lost while committing log\"]}"));
        server.enqueue(json(500, "{\"errors\":[\"local node not active but active cluster node not found\"]}"));
        server.enqueue(json(503, "{\"errors\":[\"Vault is sealed\"]}"));
        SecretPath p = SecretPath.of("secret", "a");
        List<Boolean> unknown = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            try {
                c.write(p, SecretData.of("k", "v"), OptionalInt.of(1));
            } catch (VaultAccessException e) {
                unknown.add(e.outcomeUnknown());
            }
        }
        assertThat(unknown).as("may have landed: lost leadership; not: no active node, sealed").containsExactly(true, false, false);
        List<String> outcomes = java.nio.file.Files.readAllLines(audit.file()).stream()
                .filter(l -> l.contains("\"vault.write\"")).map(l -> l.replaceAll(".*\"outcome\":\"([a-z]+)\".*", "$1")).toList();
        assertThat(outcomes).containsExactly("unknown", "failed", "failed");
    }

    @Test
    void write_redirectedByAStandbyWhoseForwardingFailed_mayHaveLanded_evenWhenTheActiveNodeSaysConflict() throws Exception {
        VaultClient c = connect(3);
        String at = server.url("/v1/secret/data/a").toString();
        server.enqueue(new MockResponse.Builder().code(307).setHeader("Location", at).build());
        server.enqueue(json(400, "{\"errors\":[\"check-and-set parameter did not match the current version\"]}"));
        server.enqueue(new MockResponse.Builder().code(307)
                .setHeader("Location", "http://127.0.0.1:" + io.keyward.testing.TestPorts.free() + "/v1/secret/data/a").build());
        SecretPath p = SecretPath.of("secret", "a");

        Throwable conflict = org.assertj.core.api.Assertions.catchThrowable(() -> c.write(p, SecretData.of("k", "v"), OptionalInt.of(1)));
        Throwable refused = org.assertj.core.api.Assertions.catchThrowable(() -> c.write(p, SecretData.of("k", "v"), OptionalInt.of(1)));

        assertThat(conflict).as("the version in the way may be this write's own").isInstanceOf(VaultAccessException.class)
                .isNotInstanceOf(io.keyward.rotation.CasConflictException.class);
        assertThat(((VaultAccessException) conflict).outcomeUnknown()).isTrue();
        assertThat(refused).isInstanceOf(VaultAccessException.class).hasMessageContaining("connection refused");
        assertThat(((VaultAccessException) refused).outcomeUnknown()).as("forwarded before the redirect").isTrue();
        assertThat(server.getRequestCount()).as("neither repeated").isEqualTo(4);
    }

    @Test
    void write_errorEchoingTheValue_neverShowsIt() throws Exception {
        VaultClient c = connect(1);
        String value = Leaks.secret("echoed");
        server.enqueue(json(400, "{\"errors\":[\"invalid value: " + value + "\"]}"));

        assertThatThrownBy(() -> c.write(SecretPath.of("secret", "a"), SecretData.of("k", value), OptionalInt.empty()))
                .isInstanceOf(VaultAccessException.class)
                .hasMessageContaining("invalid value: [hidden]")
                .hasMessageNotContaining(value);
    }

    @Test
    void write_answerWithoutVersion_isAnError_notASilentSuccess() throws Exception {
        VaultClient c = connect(1);
        server.enqueue(json(204, ""));
        assertThatThrownBy(() -> c.write(SecretPath.of("kv1", "a"), SecretData.of("k", "v"), OptionalInt.empty()))
                .isInstanceOf(VaultAccessException.class)
                .hasMessageContaining("carried no version number (is kv1 a KV v2 mount?)");
    }

    @Test
    void write_sendsCasAndNestedDataToTheDataPath() throws Exception {
        VaultClient c = connect(1);
        server.enqueue(json(200, "{\"data\":{\"version\":8}}"));
        assertThat(c.write(SecretPath.of("kv", "team/app"), SecretData.of(java.util.Map.of("n", java.util.Map.of("x", 1))),
                OptionalInt.of(7))).isEqualTo(8);

        RecordedRequest r = server.takeRequest();
        assertThat(r.getMethod()).isEqualTo("POST");
        assertThat(r.getTarget()).isEqualTo("/v1/kv/data/team/app");
        assertThat(r.getBody().utf8()).isEqualTo("{\"data\":{\"n\":{\"x\":1}},\"options\":{\"cas\":7}}");
    }

    @Test
    void read_garbageBody_isAClearError() throws Exception {
        VaultClient c = connect(1);
        server.enqueue(new MockResponse.Builder().code(502).body("<html>bad gateway</html>").build());
        assertThatThrownBy(() -> c.read(SecretPath.of("secret", "a")))
                .isInstanceOf(VaultAccessException.class).hasMessageEndingWith("failed: HTTP 502");
    }

    @Test
    void slowVault_timesOut() throws Exception {
        VaultClient c = connect(1);
        server.enqueue(json(200, "{}").newBuilder().headersDelay(5, java.util.concurrent.TimeUnit.SECONDS).build());
        assertThatThrownBy(() -> c.read(SecretPath.of("secret", "a")))
                .isInstanceOf(VaultAccessException.class).hasMessageContaining("timed out after 2 s without an answer (vault.timeouts.request)");
    }

    private static MockResponse json(int code, String body) {
        return new MockResponse.Builder().code(code).setHeader("Content-Type", "application/json").body(body).build();
    }
}
