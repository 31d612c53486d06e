package io.keyward.docbits;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

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
        client = new DocBitsClient(sim.baseUrl(), HttpClient.newHttpClient(), Duration.ofSeconds(2));
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

    /** One call per request: a 429 is handed to the caller's retrier with its Retry-After, and a retry then passes. */
    @Test
    void tooManyRequests_isOneCall_handingRetryAfterOn() throws Exception {
        String key = Leaks.track(sim.createKey("ops", Set.of("acme")));
        sim.failNext429(1);
        int before = sim.calls();
        DocBitsException e = catchThrowableOfType(() -> client.probe(key, "acme"), DocBitsException.class);
        assertThat(e.getMessage()).contains("asks to slow down (429)");
        assertThat(e.retryAfter()).contains(Duration.ofSeconds(1));
        assertThat(sim.calls() - before).isEqualTo(1);
        new Retrier(new Retrier.Backoff(3, Duration.ofMillis(10), Duration.ofSeconds(5)), waits::add, () -> 1.0)
                .run(() -> client.probe(key, "acme"), x -> x instanceof DocBitsException);
        assertThat(waits).isEmpty();
    }

    @Test
    void serverErrors_areOneCall_andReported() throws Exception {
        String key = Leaks.track(sim.createKey("ops", Set.of("acme")));
        sim.failNext5xx(5);
        int before = sim.calls();
        assertThatThrownBy(() -> client.probe(key, "acme"))
                .isInstanceOf(DocBitsException.class).hasMessageContaining("failed (503: Service unavailable)");
        assertThat(sim.calls() - before).isEqualTo(1);
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
