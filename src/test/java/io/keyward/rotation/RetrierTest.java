package io.keyward.rotation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

final class RetrierTest {

    private final List<Duration> waits = new ArrayList<>();
    private final Retrier retrier = new Retrier(new Retrier.Backoff(4, Duration.ofMillis(100), Duration.ofMillis(300)),
            waits::add, () -> 1.0);

    @Test
    void call_retriesRetryableFailures_withCappedExponentialBackoff() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        String result = retrier.call(() -> {
            if (calls.incrementAndGet() < 4) throw new IOException("flaky");
            return "done";
        }, e -> true);

        assertThat(result).isEqualTo("done");
        assertThat(calls).hasValue(4);
        assertThat(waits).containsExactly(Duration.ofMillis(100), Duration.ofMillis(200), Duration.ofMillis(300));
    }

    @Test
    void call_givesUpAfterTheLastAttempt_withTheLastFailure() {
        AtomicInteger calls = new AtomicInteger();
        assertThatThrownBy(() -> retrier.call(() -> {
            throw new IOException("failure " + calls.incrementAndGet());
        }, e -> true)).hasMessage("failure 4");
        assertThat(waits).hasSize(3);
    }

    @Test
    void call_doesNotRepeatWhatIsNotRetryable() {
        AtomicInteger calls = new AtomicInteger();
        assertThatThrownBy(() -> retrier.call(() -> {
            calls.incrementAndGet();
            throw new IOException("denied");
        }, e -> false)).hasMessage("denied");
        assertThat(calls).hasValue(1);
        assertThat(waits).isEmpty();
    }

    @Test
    void call_honoursRetryAfter_upToTheMaximumBackoff() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        retrier.call(() -> {
            int n = calls.incrementAndGet();
            if (n == 1) throw new SlowDown(Duration.ofMillis(150));
            if (n == 2) throw new SlowDown(Duration.ofSeconds(60));
            return n;
        }, e -> true);
        assertThat(waits).containsExactly(Duration.ofMillis(150), Duration.ofMillis(300));
    }

    @Test
    void backoff_jittersBetweenHalfAndFull() {
        Retrier.Backoff b = new Retrier.Backoff(5, Duration.ofMillis(100), Duration.ofSeconds(10));
        assertThat(b.delay(3, 0.0)).isEqualTo(Duration.ofMillis(200));
        assertThat(b.delay(3, 1.0)).isEqualTo(Duration.ofMillis(400));
        assertThatThrownBy(() -> new Retrier.Backoff(0, Duration.ZERO, Duration.ZERO)).hasMessageContaining("attempts");
    }

    private static final class SlowDown extends IOException implements Retrier.HasRetryAfter {
        private final Duration after;

        SlowDown(Duration after) {
            super("429");
            this.after = after;
        }

        @Override
        public Optional<Duration> retryAfter() {
            return Optional.of(after);
        }
    }
}
