package io.keyward.rotation;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A journal entry as Vault KV data, and back. Format 2 keeps acknowledgements per agent and
 * target (one text per agent); a format-1 entry (acknowledgements by target alone, written by an
 * older keyward) reads as acknowledgements of its owner, so a rotation it left in flight is resumed.
 */
final class JournalCodec {

    static final int FORMAT = 2;

    private JournalCodec() {}

    static SecretData toData(JournalEntry e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", FORMAT);
        m.put("secret_id", e.secretId());
        put(m, "rotation_id", e.rotationId());
        m.put("phase", e.phase().word());
        put(m, "owner", e.owner());
        put(m, "lease_until", e.leaseUntil());
        put(m, "started_at", e.startedAt());
        put(m, "updated_at", e.updatedAt());
        put(m, "trigger", e.trigger());
        m.put("emergency", e.emergency());
        m.put("live_version_before", e.liveVersionBefore());
        m.put("pending_version", e.pendingVersion());
        m.put("new_version", e.newVersion());
        put(m, "new_fingerprint", e.newFingerprint());
        // One text per agent ("target=version@time,..."): Vault refuses requests of more than 1,000
        // JSON strings by default, and a fleet of many hosts must fit in one journal write.
        Map<String, Object> acks = new TreeMap<>();
        e.acks().forEach((agent, targets) -> {
            StringBuilder t = new StringBuilder();
            targets.forEach((id, a) -> t.append(t.length() == 0 ? "" : ",").append(id).append('=').append(a.version())
                    .append('@').append(a.at()));
            acks.put(agent, t.toString());
        });
        m.put("acks", acks);
        m.put("old_kept", e.oldKept());
        m.put("attempts", e.attempts());
        put(m, "last_error", e.lastError());
        put(m, "retry_at", e.retryAt());
        put(m, "retire_after", e.retireAfter());
        put(m, "rollback", e.rollback());
        Map<String, Object> times = new LinkedHashMap<>();
        e.phaseTimes().forEach((k, v) -> times.put(k, v.toString()));
        m.put("phase_times", times);
        List<Object> h = new ArrayList<>();
        for (JournalEntry.HistoryItem i : e.history()) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("rotation_id", i.rotationId());
            put(x, "trigger", i.trigger());
            put(x, "started_at", i.startedAt());
            put(x, "finished_at", i.finishedAt());
            x.put("outcome", i.outcome());
            x.put("from_version", i.fromVersion());
            x.put("to_version", i.toVersion());
            put(x, "error", i.error());
            if (i.outage() != null) x.put("outage_ms", i.outage().toMillis());
            h.add(x);
        }
        m.put("history", h);
        return SecretData.of(m);
    }

    /** Reads an entry; a field that cannot be read is an error naming the secret and the field. */
    static JournalEntry fromData(String secretId, SecretData data) throws StoreException {
        Map<String, Object> m = data.fields();
        try {
            String owner = str(m.get("owner"));
            Instant updated = time(m.get("updated_at"));
            Map<String, Map<String, JournalEntry.Ack>> acks = new TreeMap<>();
            if (m.get("acks") instanceof Map<?, ?> a) {
                for (Map.Entry<?, ?> x : a.entrySet()) {
                    if (x.getValue() instanceof Number n) { // format 1: target -> version, by the owner
                        acks.computeIfAbsent(owner == null ? "?" : owner, k -> new TreeMap<>())
                                .put(x.getKey().toString(), new JournalEntry.Ack(n.intValue(), updated));
                    } else if (x.getValue() instanceof String text) {
                        Map<String, JournalEntry.Ack> t = new TreeMap<>();
                        for (String one : text.split(",")) {
                            if (one.isBlank()) continue;
                            int eq = one.lastIndexOf('=', one.indexOf('@'));
                            int at = one.indexOf('@');
                            t.put(one.substring(0, eq), new JournalEntry.Ack(Integer.parseInt(one.substring(eq + 1, at)),
                                    Instant.parse(one.substring(at + 1))));
                        }
                        acks.put(x.getKey().toString(), t);
                    }
                }
            }
            Map<String, Instant> times = new LinkedHashMap<>();
            if (m.get("phase_times") instanceof Map<?, ?> t) {
                for (Map.Entry<?, ?> x : t.entrySet()) {
                    if (x.getValue() != null) times.put(x.getKey().toString(), time(x.getValue()));
                }
            }
            List<JournalEntry.HistoryItem> history = new ArrayList<>();
            if (m.get("history") instanceof List<?> l) {
                for (Object o : l) {
                    Map<?, ?> x = (Map<?, ?>) o;
                    history.add(new JournalEntry.HistoryItem(str(x.get("rotation_id")), str(x.get("trigger")),
                            time(x.get("started_at")), time(x.get("finished_at")), str(x.get("outcome")),
                            num(x.get("from_version")), num(x.get("to_version")), str(x.get("error")),
                            x.get("outage_ms") instanceof Number ms ? java.time.Duration.ofMillis(ms.longValue()) : null));
                }
            }
            return new JournalEntry(secretId, str(m.get("rotation_id")),
                    Phase.valueOf(str(m.get("phase")).toUpperCase(Locale.ROOT)), owner, time(m.get("lease_until")),
                    time(m.get("started_at")), updated, str(m.get("trigger")), Boolean.TRUE.equals(m.get("emergency")),
                    num(m.get("live_version_before")), num(m.get("pending_version")), num(m.get("new_version")),
                    str(m.get("new_fingerprint")), acks, Boolean.TRUE.equals(m.get("old_kept")), num(m.get("attempts")),
                    str(m.get("last_error")), time(m.get("retry_at")), time(m.get("retire_after")),
                    str(m.get("rollback")), times, history);
        } catch (RuntimeException bad) {
            throw new StoreException("the journal of " + secretId + " cannot be read (" + bad.getClass().getSimpleName()
                    + "); fix or delete it in Vault");
        }
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
