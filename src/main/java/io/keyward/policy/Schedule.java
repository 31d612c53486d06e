package io.keyward.policy;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * When a secret is due: {@code every} (counted from its last rotation), a {@code cron} expression,
 * or both (whichever comes first); an optional window that rotations wait for; {@code jitter}
 * spreads a fleet; {@code maxAge} makes a secret overdue regardless of the rest.
 */
public record Schedule(Optional<Duration> every, Optional<Cron> cron, Optional<Window> window, Duration jitter,
                       Optional<Duration> maxAge) {

    public Schedule {
        Objects.requireNonNull(every, "every");
        Objects.requireNonNull(cron, "cron");
        Objects.requireNonNull(window, "window");
        Objects.requireNonNull(jitter, "jitter");
        Objects.requireNonNull(maxAge, "maxAge");
    }

    /**
     * When the next rotation is due, given when the live value was last rotated: the earliest of
     * last+every, the next cron time after last, and last+maxAge; without a window or jitter.
     */
    public Instant due(Instant lastRotated) {
        Instant due = Instant.MAX;
        if (every.isPresent()) due = min(due, lastRotated.plus(every.get()));
        if (cron.isPresent()) {
            Optional<java.time.ZonedDateTime> next = cron.get().next(lastRotated);
            if (next.isPresent()) due = min(due, next.get().toInstant());
        }
        if (maxAge.isPresent()) due = min(due, lastRotated.plus(maxAge.get()));
        return due;
    }

    /**
     * When to start: the due time (or {@code now}, if already past), moved into the window and
     * then later by {@code jitterFraction} (0..1) of the jitter. {@code Instant.MAX} if never.
     */
    public Instant start(Instant lastRotated, Instant now, double jitterFraction) {
        Instant due = due(lastRotated);
        if (due.equals(Instant.MAX)) return due;
        Instant at = due.isBefore(now) ? now : due;
        at = at.plusMillis((long) (jitter.toMillis() * Math.max(0, Math.min(1, jitterFraction))));
        if (window.isPresent()) at = window.get().nextOpen(at);
        return at;
    }

    private static Instant min(Instant a, Instant b) {
        return a.isBefore(b) ? a : b;
    }
}
