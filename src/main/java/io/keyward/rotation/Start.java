package io.keyward.rotation;

import io.keyward.policy.Policy;
import io.keyward.policy.Window;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Whether a rotation starts now, decided from plain values: the last journal entry, what is
 * known of the live version, the policy, and the time. Reads nothing, changes nothing.
 */
public final class Start {

    /** The first wait after a rolled-back attempt; it doubles with every further one, up to the policy's cap. */
    static final Duration FIRST_BACKOFF = Duration.ofMinutes(1);

    private Start() {}

    /** What is known of the live version: its number (0: none), when it was written, the operator's expiry. */
    public record Live(int version, Optional<Instant> written, Optional<Instant> expiresAt, int dueAnnounced) {}

    /** The verdict. */
    public sealed interface Verdict {
        record NotDue(Instant due, Instant next) implements Verdict {}

        record OutsideWindow(Instant opens) implements Verdict {}

        record BackOff(int attempts, Instant next, String lastError) implements Verdict {}

        record Claim() implements Verdict {}

        /** A manual key is due: announce it (unless it was for this version already) and wait for a person. */
        record AnnounceDue(Instant due, boolean announced) implements Verdict {}
    }

    public static Verdict decide(Optional<JournalEntry> last, Live live, Policy.SecretPolicy p, Decision.Source source,
                                 Duration notice, boolean force, boolean emergency, Instant now) {
        Instant due = dueAt(live, p, now);
        if (source == Decision.Source.MANUAL) {
            Instant announce = due.minus(notice);
            if (!force && !emergency && now.isBefore(announce)) return new Verdict.NotDue(due, announce);
            return new Verdict.AnnounceDue(due, !emergency && live.dueAnnounced() == live.version());
        }
        if (force || emergency) return new Verdict.Claim();
        if (now.isBefore(due)) return new Verdict.NotDue(due, due);
        List<JournalEntry.HistoryItem> history = last.map(JournalEntry::history).orElse(List.of());
        Optional<Instant> retry = nextAttempt(history, p.retryCap(), p.schedule().window());
        if (retry.isPresent() && now.isBefore(retry.get())) {
            return new Verdict.BackOff(failedAttempts(history), retry.get(), history.get(0).error());
        }
        Optional<Window> w = p.schedule().window();
        if (w.isPresent() && !w.get().contains(now)) return new Verdict.OutsideWindow(w.get().nextOpen(now));
        return new Verdict.Claim();
    }

    /**
     * A live member whose shared policy part for the secret differs from this agent's: while one
     * exists the secret is not rotated (the result must not depend on which agent wins the claim).
     */
    public static Optional<Fleet.Member> disagreeing(String mine, String self, List<Fleet.Member> members, Duration timeout,
                                                    Instant now) {
        return members.stream().filter(m -> !m.agent().equals(self) && m.policy() != null && !m.policy().equals(mine))
                .filter(m -> !m.lastSeen().plus(timeout).isBefore(now)).findFirst();
    }

    /** When the secret is due: its schedule from the live version's time, or the operator's expiry if sooner. */
    public static Instant dueAt(Live live, Policy.SecretPolicy p, Instant now) {
        Instant due = live.written().isEmpty() ? now : p.schedule().due(live.written().get());
        return live.expiresAt().isPresent() && live.expiresAt().get().isBefore(due) ? live.expiresAt().get() : due;
    }

    /** Rotations in a row, newest first, that keyward started and that rolled back. */
    public static int failedAttempts(List<JournalEntry.HistoryItem> history) {
        int n = 0;
        while (n < history.size() && history.get(n).failedAttempt()) n++;
        return n;
    }

    /**
     * When the next attempt may start after rolled-back ones: the last one's end plus a backoff that
     * doubles from {@link #FIRST_BACKOFF} up to {@code cap}, moved into the window. Empty when the
     * last rotation did not roll back.
     */
    public static Optional<Instant> nextAttempt(List<JournalEntry.HistoryItem> history, Duration cap,
                                                Optional<Window> window) {
        int n = failedAttempts(history);
        if (n == 0 || history.get(0).finishedAt() == null) return Optional.empty();
        long millis = FIRST_BACKOFF.toMillis() << Math.min(30, n - 1);
        Duration wait = millis <= 0 || millis > cap.toMillis() ? cap : Duration.ofMillis(millis);
        Instant at = history.get(0).finishedAt().plus(wait);
        return Optional.of(window.filter(Window::canOpen).map(w -> w.nextOpen(at)).orElse(at));
    }
}
