package io.keyward.rotation;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * One secret's journal, kept in Vault at {@code <state>/journal/<id>}: the rotation in flight (or
 * the last one) and a short history. Every change is a check-and-set write of a new version.
 * Acknowledgements are kept per (agent, target): an agent acknowledges only its own targets.
 */
public record JournalEntry(
        String secretId,
        String rotationId,
        Phase phase,
        String owner,
        Instant leaseUntil,
        Instant startedAt,
        Instant updatedAt,
        String trigger,
        boolean emergency,
        int liveVersionBefore,
        int pendingVersion,
        int newVersion,
        String newFingerprint,
        Map<String, Map<String, Ack>> acks,
        boolean oldKept,
        int attempts,
        String lastError,
        Instant retryAt,
        Instant retireAfter,
        String rollback,
        Map<String, Instant> phaseTimes,
        List<HistoryItem> history) {

    static final int HISTORY = 20;

    /** The trigger of a rotation that delivers a version someone else wrote in Vault. */
    public static final String VAULT_CHANGE = "vault-change";

    public JournalEntry {
        Objects.requireNonNull(secretId, "secretId");
        Objects.requireNonNull(phase, "phase");
        Map<String, Map<String, Ack>> a = new TreeMap<>();
        acks.forEach((agent, targets) -> a.put(agent, Collections.unmodifiableMap(new TreeMap<>(targets))));
        acks = Collections.unmodifiableMap(a);
        phaseTimes = Collections.unmodifiableMap(new LinkedHashMap<>(phaseTimes));
        history = List.copyOf(history);
    }

    /** One target's acknowledgement: the version it has, and since when. */
    public record Ack(int version, Instant at) {}

    /** A finished rotation, as kept in the history. */
    public record HistoryItem(String rotationId, String trigger, Instant startedAt, Instant finishedAt, String outcome,
                              int fromVersion, int toVersion, String error, java.time.Duration outage) {

        public HistoryItem(String rotationId, String trigger, Instant startedAt, Instant finishedAt, String outcome,
                           int fromVersion, int toVersion, String error) {
            this(rotationId, trigger, startedAt, finishedAt, outcome, fromVersion, toVersion, error, null);
        }

        /** How long consumers had no working key (single-key secrets), if this rotation ended one. */
        public Optional<java.time.Duration> outageLength() {
            return Optional.ofNullable(outage);
        }

        /** True for a rotation keyward started that ended rolled back (a failed attempt). */
        public boolean failedAttempt() {
            return "rolled_back".equals(outcome) && !VAULT_CHANGE.equals(trigger);
        }
    }

    /** True when this rotation delivers a version written in Vault by someone else (it starts at VERIFY). */
    public boolean external() {
        return VAULT_CHANGE.equals(trigger);
    }

    public boolean active() {
        return !phase.terminal();
    }

    public Optional<String> error() {
        return Optional.ofNullable(lastError);
    }

    /** When a step outside the phases happened ("revocable": the old key was reported revocable). */
    public Optional<Instant> marked(String what) {
        return Optional.ofNullable(phaseTimes.get(what));
    }

    /**
     * The acknowledgement of one agent's target, if it has the new version or a newer one (either
     * way it no longer holds the old one).
     */
    public Optional<Ack> ack(String agent, String target) {
        Ack a = acks.getOrDefault(agent, Map.of()).get(target);
        return a != null && newVersion > 0 && a.version() >= newVersion ? Optional.of(a) : Optional.empty();
    }

    static JournalEntry start(String secretId, String rotationId, String owner, Instant now, Instant leaseUntil,
                              String trigger, boolean emergency, int liveVersion, List<HistoryItem> history) {
        return new JournalEntry(secretId, rotationId, Phase.CLAIMED, owner, leaseUntil, now, now, trigger, emergency,
                liveVersion, 0, 0, null, Map.of(), false, 0, null, null, null, null,
                Map.of(Phase.CLAIMED.word(), now), history);
    }

    // ---- changes: each returns a new entry -----------------------------------------------------

    JournalEntry to(Phase next, Instant now) {
        Change c = change();
        c.phase = next;
        c.updatedAt = now;
        c.phaseTimes.put(next.word(), now);
        c.attempts = 0;
        c.lastError = null;
        c.retryAt = null;
        return c.done();
    }

    JournalEntry mark(String what, Instant at) {
        Change c = change();
        c.phaseTimes.put(what, at);
        c.updatedAt = at;
        return c.done();
    }

    JournalEntry owned(String newOwner, Instant until, Instant now) {
        Change c = change();
        c.owner = newOwner;
        c.leaseUntil = until;
        c.updatedAt = now;
        return c.done();
    }

    JournalEntry staged(int pending, String fingerprint, boolean kept) {
        Change c = change();
        c.pendingVersion = pending;
        c.newFingerprint = fingerprint;
        c.oldKept = kept;
        return c.done();
    }

    JournalEntry promotedAs(int version) {
        Change c = change();
        c.newVersion = version;
        return c.done();
    }

    JournalEntry acked(String agent, Map<String, Ack> targets, Instant now) {
        Change c = change();
        Map<String, Ack> mine = new TreeMap<>(c.acks.getOrDefault(agent, Map.of()));
        mine.putAll(targets);
        c.acks.put(agent, mine);
        c.updatedAt = now;
        return c.done();
    }

    JournalEntry failed(String error, Instant retry, Instant now) {
        Change c = change();
        c.attempts++;
        c.lastError = error;
        c.retryAt = retry;
        c.updatedAt = now;
        return c.done();
    }

    /** Waiting without an error (for other members, or a person): the time to look again. */
    JournalEntry waitingUntil(Instant retry, Instant now) {
        Change c = change();
        c.lastError = null;
        c.retryAt = retry;
        c.updatedAt = now;
        return c.done();
    }

    JournalEntry retiringAfter(Instant at) {
        Change c = change();
        c.retireAfter = at;
        return c.done();
    }

    JournalEntry rollingBack(String reason, Instant now) {
        Change c = change();
        c.lastError = reason;
        c.rollback = reason;
        c.updatedAt = now;
        return c.done();
    }

    JournalEntry asEmergency() {
        Change c = change();
        c.emergency = true;
        return c.done();
    }

    JournalEntry finished(Phase end, String outcome, String error, Instant now) {
        return finished(end, outcome, error, now, null);
    }

    /** As {@link #finished(Phase, String, String, Instant)}, keeping the outage it ended (null: none). */
    JournalEntry finished(Phase end, String outcome, String error, Instant now, java.time.Duration outage) {
        Change c = change();
        c.history.add(0, new HistoryItem(rotationId, trigger, startedAt, now, outcome, liveVersionBefore,
                end == Phase.RETIRED ? newVersion : liveVersionBefore, error, outage));
        while (c.history.size() > HISTORY) c.history.remove(c.history.size() - 1);
        c.phaseTimes.put(end.word(), now);
        c.phase = end;
        c.leaseUntil = now;
        c.updatedAt = now;
        c.lastError = error;
        c.retryAt = null;
        return c.done();
    }

    private Change change() {
        return new Change(this);
    }

    /** A copy of every field, changed in place, then made into a new entry. */
    private static final class Change {
        final String secretId;
        final String rotationId;
        Phase phase;
        String owner;
        Instant leaseUntil;
        final Instant startedAt;
        Instant updatedAt;
        final String trigger;
        boolean emergency;
        final int liveVersionBefore;
        int pendingVersion;
        int newVersion;
        String newFingerprint;
        final Map<String, Map<String, Ack>> acks;
        boolean oldKept;
        int attempts;
        String lastError;
        Instant retryAt;
        Instant retireAfter;
        String rollback;
        final Map<String, Instant> phaseTimes;
        final List<HistoryItem> history;

        Change(JournalEntry e) {
            secretId = e.secretId;
            rotationId = e.rotationId;
            phase = e.phase;
            owner = e.owner;
            leaseUntil = e.leaseUntil;
            startedAt = e.startedAt;
            updatedAt = e.updatedAt;
            trigger = e.trigger;
            emergency = e.emergency;
            liveVersionBefore = e.liveVersionBefore;
            pendingVersion = e.pendingVersion;
            newVersion = e.newVersion;
            newFingerprint = e.newFingerprint;
            acks = new TreeMap<>(e.acks);
            oldKept = e.oldKept;
            attempts = e.attempts;
            lastError = e.lastError;
            retryAt = e.retryAt;
            retireAfter = e.retireAfter;
            rollback = e.rollback;
            phaseTimes = new LinkedHashMap<>(e.phaseTimes);
            history = new ArrayList<>(e.history);
        }

        JournalEntry done() {
            return new JournalEntry(secretId, rotationId, phase, owner, leaseUntil, startedAt, updatedAt, trigger,
                    emergency, liveVersionBefore, pendingVersion, newVersion, newFingerprint, acks, oldKept, attempts,
                    lastError, retryAt, retireAfter, rollback, phaseTimes, history);
        }
    }
}
