package io.keyward.rotation;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * One secret's journal, kept in Vault at {@code <state>/journal/<id>}: the rotation in flight (or
 * the last one) and a short history. Every change is a check-and-set write of a new version.
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
        Map<String, Integer> acks,
        int attempts,
        String lastError,
        Instant retryAt,
        Instant retireAfter,
        String rollback,
        Map<String, Instant> phaseTimes,
        List<HistoryItem> history) {

    static final int HISTORY = 20;

    public JournalEntry {
        Objects.requireNonNull(secretId, "secretId");
        Objects.requireNonNull(phase, "phase");
        acks = Map.copyOf(acks);
        phaseTimes = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(phaseTimes));
        history = List.copyOf(history);
    }

    /** A finished rotation, as kept in the history. */
    public record HistoryItem(String rotationId, String trigger, Instant startedAt, Instant finishedAt, String outcome,
                              int fromVersion, int toVersion, String error) {}

    /** The trigger of a rotation that delivers a version someone else wrote in Vault. */
    public static final String VAULT_CHANGE = "vault-change";

    /** True when this rotation delivers a version written in Vault by someone else (it starts at VERIFY). */
    public boolean external() {
        return VAULT_CHANGE.equals(trigger);
    }

    /** When a step outside the phases happened ("revocable": the old key was reported revocable). */
    public Optional<Instant> marked(String what) {
        return Optional.ofNullable(phaseTimes.get(what));
    }

    JournalEntry mark(String what, Instant at) {
        Map<String, Instant> times = new LinkedHashMap<>(phaseTimes);
        times.put(what, at);
        return new JournalEntry(secretId, rotationId, phase, owner, leaseUntil, startedAt, at, trigger, emergency,
                liveVersionBefore, pendingVersion, newVersion, newFingerprint, acks, attempts, lastError, retryAt,
                retireAfter, rollback, times, history);
    }

    public boolean active() {
        return !phase.terminal();
    }

    public Optional<String> error() {
        return Optional.ofNullable(lastError);
    }

    static JournalEntry start(String secretId, String rotationId, String owner, Instant now, Instant leaseUntil,
                              String trigger, boolean emergency, int liveVersion, List<HistoryItem> history) {
        return new JournalEntry(secretId, rotationId, Phase.CLAIMED, owner, leaseUntil, now, now, trigger, emergency,
                liveVersion, 0, 0, null, Map.of(), 0, null, null, null, null, Map.of(Phase.CLAIMED.word(), now), history);
    }

    JournalEntry to(Phase next, Instant now) {
        Map<String, Instant> times = new LinkedHashMap<>(phaseTimes);
        times.put(next.word(), now);
        return new JournalEntry(secretId, rotationId, next, owner, leaseUntil, startedAt, now, trigger, emergency,
                liveVersionBefore, pendingVersion, newVersion, newFingerprint, acks, 0, null, null, retireAfter,
                rollback, times, history);
    }

    JournalEntry owned(String newOwner, Instant until, Instant now) {
        return new JournalEntry(secretId, rotationId, phase, newOwner, until, startedAt, now, trigger, emergency,
                liveVersionBefore, pendingVersion, newVersion, newFingerprint, acks, attempts, lastError, retryAt,
                retireAfter, rollback, phaseTimes, history);
    }

    JournalEntry staged(int pending, String fingerprint) {
        return new JournalEntry(secretId, rotationId, phase, owner, leaseUntil, startedAt, updatedAt, trigger, emergency,
                liveVersionBefore, pending, newVersion, fingerprint, acks, attempts, lastError, retryAt, retireAfter,
                rollback, phaseTimes, history);
    }

    JournalEntry promotedAs(int version) {
        return new JournalEntry(secretId, rotationId, phase, owner, leaseUntil, startedAt, updatedAt, trigger, emergency,
                liveVersionBefore, pendingVersion, version, newFingerprint, acks, attempts, lastError, retryAt,
                retireAfter, rollback, phaseTimes, history);
    }

    JournalEntry acked(String target, int version, Instant now) {
        Map<String, Integer> a = new TreeMap<>(acks);
        a.put(target, version);
        return new JournalEntry(secretId, rotationId, phase, owner, leaseUntil, startedAt, now, trigger, emergency,
                liveVersionBefore, pendingVersion, newVersion, newFingerprint, a, attempts, lastError, retryAt,
                retireAfter, rollback, phaseTimes, history);
    }

    JournalEntry failed(String error, Instant retry, Instant now) {
        return new JournalEntry(secretId, rotationId, phase, owner, leaseUntil, startedAt, now, trigger, emergency,
                liveVersionBefore, pendingVersion, newVersion, newFingerprint, acks, attempts + 1, error, retry,
                retireAfter, rollback, phaseTimes, history);
    }

    JournalEntry retiringAfter(Instant at) {
        return new JournalEntry(secretId, rotationId, phase, owner, leaseUntil, startedAt, updatedAt, trigger, emergency,
                liveVersionBefore, pendingVersion, newVersion, newFingerprint, acks, attempts, lastError, retryAt, at,
                rollback, phaseTimes, history);
    }

    JournalEntry rollingBack(String reason, Instant now) {
        return new JournalEntry(secretId, rotationId, phase, owner, leaseUntil, startedAt, now, trigger, emergency,
                liveVersionBefore, pendingVersion, newVersion, newFingerprint, acks, attempts, reason, retryAt,
                retireAfter, reason, phaseTimes, history);
    }

    JournalEntry asEmergency() {
        return new JournalEntry(secretId, rotationId, phase, owner, leaseUntil, startedAt, updatedAt, trigger, true,
                liveVersionBefore, pendingVersion, newVersion, newFingerprint, acks, attempts, lastError, retryAt,
                retireAfter, rollback, phaseTimes, history);
    }

    JournalEntry finished(Phase end, String outcome, Instant now) {
        List<HistoryItem> h = new ArrayList<>(history);
        h.add(0, new HistoryItem(rotationId, trigger, startedAt, now, outcome, liveVersionBefore,
                end == Phase.RETIRED ? newVersion : liveVersionBefore, end == Phase.RETIRED ? null : lastError));
        while (h.size() > HISTORY) h.remove(h.size() - 1);
        Map<String, Instant> times = new LinkedHashMap<>(phaseTimes);
        times.put(end.word(), now);
        return new JournalEntry(secretId, rotationId, end, owner, now, startedAt, now, trigger, emergency,
                liveVersionBefore, pendingVersion, newVersion, newFingerprint, acks, attempts, lastError, null,
                retireAfter, rollback, times, h);
    }

    // ---- encoding as Vault KV data ---------------------------------------------------------

    SecretData toData() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("secret_id", secretId);
        put(m, "rotation_id", rotationId);
        m.put("phase", phase.word());
        put(m, "owner", owner);
        put(m, "lease_until", leaseUntil);
        put(m, "started_at", startedAt);
        put(m, "updated_at", updatedAt);
        put(m, "trigger", trigger);
        m.put("emergency", emergency);
        m.put("live_version_before", liveVersionBefore);
        m.put("pending_version", pendingVersion);
        m.put("new_version", newVersion);
        put(m, "new_fingerprint", newFingerprint);
        m.put("acks", acks);
        m.put("attempts", attempts);
        put(m, "last_error", lastError);
        put(m, "retry_at", retryAt);
        put(m, "retire_after", retireAfter);
        put(m, "rollback", rollback);
        Map<String, Object> times = new LinkedHashMap<>();
        phaseTimes.forEach((k, v) -> times.put(k, v.toString()));
        m.put("phase_times", times);
        List<Object> h = new ArrayList<>();
        for (HistoryItem i : history) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("rotation_id", i.rotationId());
            put(x, "trigger", i.trigger());
            put(x, "started_at", i.startedAt());
            put(x, "finished_at", i.finishedAt());
            x.put("outcome", i.outcome());
            x.put("from_version", i.fromVersion());
            x.put("to_version", i.toVersion());
            put(x, "error", i.error());
            h.add(x);
        }
        m.put("history", h);
        return SecretData.of(m);
    }

    static JournalEntry fromData(String secretId, SecretData data) {
        Map<String, Object> m = data.fields();
        Map<String, Integer> acks = new TreeMap<>();
        if (m.get("acks") instanceof Map<?, ?> a) a.forEach((k, v) -> acks.put(k.toString(), ((Number) v).intValue()));
        Map<String, Instant> times = new LinkedHashMap<>();
        if (m.get("phase_times") instanceof Map<?, ?> t) {
            for (Object k : t.keySet()) {
                Object v = t.get(k);
                if (v != null) times.put(k.toString(), Instant.parse(v.toString()));
            }
        }
        List<HistoryItem> history = new ArrayList<>();
        if (m.get("history") instanceof List<?> l) {
            for (Object o : l) {
                Map<?, ?> x = (Map<?, ?>) o;
                history.add(new HistoryItem(str(x.get("rotation_id")), str(x.get("trigger")), time(x.get("started_at")),
                        time(x.get("finished_at")), str(x.get("outcome")), num(x.get("from_version")),
                        num(x.get("to_version")), str(x.get("error"))));
            }
        }
        return new JournalEntry(secretId, str(m.get("rotation_id")),
                Phase.valueOf(str(m.get("phase")).toUpperCase(java.util.Locale.ROOT)), str(m.get("owner")),
                time(m.get("lease_until")), time(m.get("started_at")), time(m.get("updated_at")), str(m.get("trigger")),
                Boolean.TRUE.equals(m.get("emergency")), num(m.get("live_version_before")), num(m.get("pending_version")),
                num(m.get("new_version")), str(m.get("new_fingerprint")), acks, num(m.get("attempts")),
                str(m.get("last_error")), time(m.get("retry_at")), time(m.get("retire_after")), str(m.get("rollback")),
                times, history);
    }

    private static void put(Map<String, Object> m, String k, Object v) {
        if (v != null) m.put(k, v.toString());
    }

    private static String str(Object o) {
        return o == null ? null : o.toString();
    }

    private static int num(Object o) {
        return o instanceof Number n ? n.intValue() : 0;
    }

    private static Instant time(Object o) {
        return o == null ? null : Instant.parse(o.toString());
    }
}
