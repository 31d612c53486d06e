package io.keyward.schedule;

import io.keyward.rotation.JournalEntry;
import io.keyward.rotation.KeySource;
import io.keyward.rotation.Outcome;
import io.keyward.rotation.Phase;
import io.keyward.rotation.Rotator;
import io.keyward.rotation.SecretBinding;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/** Decides when a secret's job runs next. Pure: every input is passed in. */
final class NextRun {

    private NextRun() {}

    /**
     * The next start: a rotation in flight resumes when its wait ends (grace, retry, another
     * agent's lease); otherwise the schedule decides, counting from the last rotation (now, for a
     * secret that does not exist yet), moved into the window and delayed by the jitter; after
     * rolled-back attempts, not before the backoff ends.
     */
    static Instant after(SecretBinding b, Optional<JournalEntry> journal, Optional<Instant> lastRotated, Instant now,
                         double jitterFraction, String agentId) {
        if (journal.isPresent() && journal.get().active()) {
            JournalEntry e = journal.get();
            if (!agentId.equals(e.owner()) && e.leaseUntil() != null && e.leaseUntil().isAfter(now)) {
                return e.leaseUntil();
            }
            if (e.phase() == Phase.DELIVERED && e.retireAfter() != null && e.retryAt() == null) {
                return later(e.retireAfter(), now);
            }
            if (e.retryAt() != null) return later(e.retryAt(), now);
            return now;
        }
        Instant start;
        if (lastRotated.isEmpty()) {
            start = b.policy().schedule().window().map(w -> w.nextOpen(now)).orElse(now);
        } else {
            start = b.policy().schedule().start(lastRotated.get(), now, jitterFraction);
            // A manual key is announced its notice ahead of its due time.
            if (b.source() instanceof KeySource.Manual m && !start.equals(Instant.MAX)) start = start.minus(m.keys().notice());
        }
        Optional<Instant> retry = journal.flatMap(e -> Rotator.nextAttempt(e, b.policy()));
        if (retry.isPresent() && retry.get().isAfter(start)) start = retry.get();
        return later(start, now);
    }

    /**
     * After a run: a wait ends at its time; a failure cools down for the policy's longest backoff;
     * empty when the schedule (and any backoff after rolled-back attempts) decides again.
     */
    static Optional<Instant> afterOutcome(SecretBinding b, Outcome o, Instant now) {
        if (o instanceof Outcome.Waiting w) return Optional.of(later(w.until(), now));
        if (o instanceof Outcome.AwaitingMembers w) return Optional.of(later(w.until(), now));
        if (o instanceof Outcome.AwaitingPerson a) return Optional.of(later(a.recheck(), now));
        if (o instanceof Outcome.BackingOff f) return Optional.of(later(f.next(), now));
        if (o instanceof Outcome.OutsideWindow w) return Optional.of(later(w.opens(), now));
        if (o instanceof Outcome.InFlightElsewhere x && x.until() != null) return Optional.of(later(x.until(), now));
        if (o instanceof Outcome.PolicyDiffers p) return Optional.of(later(p.next(), now));
        if (o instanceof Outcome.RolledBack || o instanceof Outcome.NotRetired) return Optional.empty();
        if (o.failed()) {
            Duration cool = b.policy().retry().max().compareTo(Duration.ofSeconds(5)) < 0 ? Duration.ofSeconds(5)
                    : b.policy().retry().max();
            return Optional.of(now.plus(cool));
        }
        return Optional.empty();
    }

    private static Instant later(Instant a, Instant b) {
        return a.isAfter(b) ? a : b;
    }
}
