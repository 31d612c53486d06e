package io.keyward.docbits;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keyward.rotation.Plugins;
import io.keyward.rotation.Retrier;
import io.keyward.testing.Leaks;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The DocBits client against the simulator of DocBits' documented behaviour. */
final class DocBitsClientTest {

    private DocBitsSimulator sim;
    private DocBitsClient client;
    private final List<Duration> waits = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        sim = DocBitsSimulator.start(0, Clock.systemUTC());
        client = new DocBitsClient(sim.baseUrl(), HttpClient.newHttpClient(), Duration.ofSeconds(2),
                new Retrier(new Retrier.Backoff(3, Duration.ofMillis(10), Duration.ofSeconds(5)), waits::add, () -> 1.0));
    }

    @AfterEach
    void stop() {
        sim.close();
    }

    @Test
    void version_needsNoKey() throws Exception {
        assertThat(client.version()).isEqualTo("simulator-1");
    }

    @Test
    void probe_acceptsAValidKeyForItsOrganisation_andRecordsWhichKeyWasUsed() throws Exception {
        String key = Leaks.track(sim.createKey("ops", Set.of("acme", "globex")));
        client.probe(key, "acme");
        client.probe(key, "globex");
        assertThat(sim.requests()).extracting(DocBitsSimulator.Request::keyHash)
                .containsOnly(DocBitsSimulator.keyHash(key));
        assertThat(sim.requests()).extracting(DocBitsSimulator.Request::org).containsExactly("acme", "globex");
    }

    @Test
    void probe_unknownOrRevokedKey_isA401Rejection_withoutTheKey() throws Exception {
        String key = Leaks.track(sim.createKey("ops", Set.of("acme")));
        sim.revoke(key);
        assertThatThrownBy(() -> client.probe(key, "acme"))
                .isInstanceOf(Plugins.Rejected.class)
                .hasMessageContaining("did not accept the key (401: Invalid API key)")
                .hasMessageContaining("organisation acme")
                .hasMessageNotContaining(key);
        assertThat(waits).isEmpty();
    }

    @Test
    void probe_otherOrganisation_isA403Rejection() throws Exception {
        String key = Leaks.track(sim.createKey("ops", Set.of("acme")));
        assertThatThrownBy(() -> client.probe(key, "initech"))
                .isInstanceOf(Plugins.Rejected.class).hasMessageContaining("refused the organisation (403");
    }

    @Test
    void tooManyRequests_isRetried_afterRetryAfter() throws Exception {
        String key = Leaks.track(sim.createKey("ops", Set.of("acme")));
        sim.failNext429(2);
        client.probe(key, "acme");
        assertThat(waits).containsExactly(Duration.ofSeconds(1), Duration.ofSeconds(1));
    }

    @Test
    void serverErrors_areRetried_thenReported() throws Exception {
        String key = Leaks.track(sim.createKey("ops", Set.of("acme")));
        sim.failNext5xx(5);
        assertThatThrownBy(() -> client.probe(key, "acme"))
                .isInstanceOf(DocBitsException.class).hasMessageContaining("failed (503: Service unavailable)");
        assertThat(waits).hasSize(2);
    }

    @Test
    void malformedBody_is422_withDocBitsMessage() throws Exception {
        String key = Leaks.track(sim.createKey("ops", Set.of("acme")));
        assertThatThrownBy(() -> client.call("POST", "/api_keys", key, "acme", "{not json"))
                .isInstanceOf(Plugins.Rejected.class).hasMessageContaining("malformed (422: Malformed body)");
    }

    @Test
    void slowService_timesOut() throws Exception {
        sim.latency(3000);
        assertThatThrownBy(() -> client.version()).isInstanceOf(DocBitsException.class)
                .hasMessageContaining("no answer within 2000 ms");
    }

    @Test
    void templates_areFilledAsJsonStringContent() {
        assertThat(DocBits.fill("{\"name\": \"kw-{request_id}\", \"key\": \"{key}\"}", "r1", "s", "a\"b"))
                .isEqualTo("{\"name\": \"kw-r1\", \"key\": \"a\\\"b\"}");
    }
}
