package io.keyward.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keyward.rotation.Plugins;
import io.keyward.rotation.SecretData;
import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The per-secret and per-target series, made at each scrape: values as the scheduler and the
 * targets reported them, one series per secret, gone with the secret.
 */
final class MetricsTest {

    private static final Clock CLOCK = Clock.fixed(Instant.ofEpochSecond(10_000), ZoneOffset.UTC);

    @Test
    void secretSeries_showWhatTheSchedulerReported() {
        Metrics m = new Metrics(CLOCK);
        m.state("db", Optional.of(Instant.ofEpochSecond(9_000)), Instant.ofEpochSecond(12_000));
        m.scheduled("db", Instant.ofEpochSecond(11_000));
        m.scheduled("web", Instant.ofEpochSecond(10_500));

        String text = m.scrape();

        assertThat(text).contains("# TYPE keyward_secret_age_seconds gauge\n")
                .contains("keyward_secret_age_seconds{secret=\"db\"} 1000.0\n")
                .contains("keyward_secret_age_seconds{secret=\"web\"} NaN\n")
                .contains("keyward_secret_due_timestamp_seconds{secret=\"db\"} 12000.0\n")
                .contains("keyward_secret_next_run_timestamp_seconds{secret=\"db\"} 11000.0\n")
                .contains("keyward_secret_next_run_timestamp_seconds{secret=\"web\"} 10500.0\n")
                .contains("keyward_revocable_since_timestamp_seconds{secret=\"db\"} NaN\n")
                .contains("keyward_secrets 2.0\n");
    }

    @Test
    void aRemovedSecret_losesItsSeries() throws Exception {
        Metrics m = new Metrics(CLOCK);
        m.scheduled("db", Instant.ofEpochSecond(11_000));
        m.scheduled("web", Instant.ofEpochSecond(10_500));
        m.target("db", new Flaky("app")).deliver("db", 1, null);

        m.removed("db");

        assertThat(m.scrape()).doesNotContain("secret=\"db\"").contains("keyward_secret_next_run_timestamp_seconds{secret=\"web\"}")
                .contains("keyward_secrets 1.0\n");
    }

    @Test
    void deliveries_areCountedPerTargetAndResult_acrossWrappingsOfOneTarget() throws Exception {
        Metrics m = new Metrics(CLOCK);
        Plugins.Target app = m.target("db", new Flaky("app"));
        app.deliver("db", 1, null);
        assertThatThrownBy(() -> app.deliver("db", 2, null)).isInstanceOf(IOException.class);
        m.target("db", new Flaky("app")).deliver("db", 3, null); // a reload wraps the same target again
        m.target("web", new Flaky("app"));

        String text = m.scrape();

        assertThat(text).contains("# TYPE keyward_deliveries_total counter\n")
                .contains("keyward_deliveries_total{result=\"ok\",secret=\"db\",target=\"app\"} 2.0\n")
                .contains("keyward_deliveries_total{result=\"failed\",secret=\"db\",target=\"app\"} 1.0\n")
                .contains("keyward_deliveries_total{result=\"ok\",secret=\"web\",target=\"app\"} 0.0\n");
    }

    /** A target whose even-numbered deliveries fail. */
    private record Flaky(String id) implements Plugins.Target {
        @Override
        public void deliver(String secret, int version, SecretData value) throws IOException {
            if (version % 2 == 0) throw new IOException("target refused version " + version);
        }
    }
}
