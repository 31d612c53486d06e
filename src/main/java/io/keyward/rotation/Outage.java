package io.keyward.rotation;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * How long the consumers of a single-key secret had no working key: from when the old key was
 * first seen refused (a live-key probe) or, if nothing saw it, when the rotation began (the
 * submit), to the last acknowledgement of the new version by any member. A pure function.
 */
public final class Outage {

    private Outage() {}

    /** The outage a finished delivery of {@code e} ended; empty when no target acknowledged it. */
    static Optional<Duration> of(JournalEntry e, Optional<Instant> oldRefusedSince) {
        Optional<Instant> lastAck = e.acks().values().stream().flatMap(t -> t.values().stream())
                .filter(a -> a.version() == e.newVersion()).map(JournalEntry.Ack::at).max(Instant::compareTo);
        if (lastAck.isEmpty()) return Optional.empty();
        Instant from = oldRefusedSince.filter(t -> t.isBefore(e.startedAt())).orElse(e.startedAt());
        Duration d = Duration.between(from, lastAck.get());
        return Optional.of(d.isNegative() ? Duration.ZERO : d);
    }

    /** "3.2 s" or "4 min 05 s": how status and history show it. */
    public static String format(Duration d) {
        long ms = d.toMillis();
        if (ms < 60_000) return String.format(java.util.Locale.ROOT, "%.1f s", ms / 1000.0);
        return String.format(java.util.Locale.ROOT, "%d min %02d s", ms / 60_000, (ms / 1000) % 60);
    }
}
