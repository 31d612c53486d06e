package io.keyward.rotation;

import java.io.IOException;
import java.time.Duration;
import java.util.Objects;
import java.util.function.DoubleSupplier;
import java.util.function.Predicate;

/**
 * The one retry helper: runs an I/O step up to {@code attempts} times with exponential,
 * jittered backoff, but only repeats failures that {@code retryable} says are safe to repeat.
 */
public final class Retrier {

    /** An I/O step. */
    @FunctionalInterface
    public interface Step<T> {
        T run() throws IOException;
    }

    /** How often and how patiently to retry. */
    public record Backoff(int attempts, Duration initial, Duration max) {
        public Backoff {
            if (attempts < 1) throw new IllegalArgumentException("attempts must be 1 or more, was " + attempts);
            Objects.requireNonNull(initial, "initial");
            Objects.requireNonNull(max, "max");
            if (initial.isNegative() || max.compareTo(initial) < 0) {
                throw new IllegalArgumentException("backoff needs 0 <= initial <= max");
            }
        }

        /** The policy's (or the agent configuration's) retry settings as a backoff. */
        public static Backoff of(io.keyward.policy.Policy.RetrySpec r) {
            return new Backoff(r.attempts(), r.initial(), r.max());
        }

        public static Backoff once() {
            return new Backoff(1, Duration.ZERO, Duration.ZERO);
        }

        /** The wait before attempt {@code n+1} (n from 1): initial * 2^(n-1), capped, then jittered to [50%, 100%]. */
        public Duration delay(int n, double random) {
            long base = initial.toMillis() << Math.min(20, n - 1);
            long capped = Math.min(base < 0 ? Long.MAX_VALUE : base, max.toMillis());
            return Duration.ofMillis((long) (capped * (0.5 + 0.5 * random)));
        }
    }

    /** An I/O step with no result. */
    @FunctionalInterface
    public interface Action {
        void run() throws IOException;
    }

    /** A failure that says how long to wait before the next attempt (like HTTP Retry-After). */
    public interface HasRetryAfter {
        java.util.Optional<Duration> retryAfter();
    }

    private final Backoff backoff;
    private final Sleeper sleeper;
    private final DoubleSupplier random;

    public Retrier(Backoff backoff, Sleeper sleeper, DoubleSupplier random) {
        this.backoff = Objects.requireNonNull(backoff, "backoff");
        this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
        this.random = Objects.requireNonNull(random, "random");
    }

    public Backoff backoff() {
        return backoff;
    }

    /** As {@link #call}, for a step with no result. */
    public void run(Action action, Predicate<IOException> retryable) throws IOException {
        call(() -> {
            action.run();
            return null;
        }, retryable);
    }

    /**
     * Runs {@code step}; on a retryable failure waits and tries again, up to the attempt limit.
     * The last failure is thrown as it was. An interrupt stops retrying at once.
     */
    public <T> T call(Step<T> step, Predicate<IOException> retryable) throws IOException {
        for (int attempt = 1; ; attempt++) {
            try {
                return step.run();
            } catch (IOException e) {
                if (attempt >= backoff.attempts() || !retryable.test(e)) {
                    throw e;
                }
                Duration wait = backoff.delay(attempt, random.getAsDouble());
                if (e instanceof HasRetryAfter r && r.retryAfter().isPresent()) {
                    Duration asked = r.retryAfter().get();
                    wait = asked.compareTo(backoff.max()) > 0 ? backoff.max() : asked;
                }
                try {
                    sleeper.sleep(wait);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    e.addSuppressed(ie);
                    throw e;
                }
            }
        }
    }
}
