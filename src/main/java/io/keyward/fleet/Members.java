package io.keyward.fleet;

import io.keyward.rotation.Fleet;
import io.keyward.rotation.SecretData;
import io.keyward.rotation.SecretPath;
import io.keyward.rotation.SecretStore;
import io.keyward.rotation.StoreException;
import io.keyward.rotation.VersionGoneException;
import io.keyward.rotation.VersionedSecret;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The fleet's membership in Vault: one record per agent at {@code <state>/members/<agent>} with
 * its last heartbeat and, per secret it serves, the ids of its own targets. Each agent writes only
 * its own record; every agent reads all of them to know whose acknowledgements a retirement waits
 * for. Reads are kept for a few seconds, so that many rotations ending together share them.
 */
public final class Members implements Fleet {

    /** How long a read of the membership records is reused. */
    static final Duration FRESH = Duration.ofSeconds(5);

    private final SecretStore store;
    private final SecretPath folder;
    private final Clock clock;
    private final Duration fresh;
    private volatile Snapshot snapshot;
    private volatile Map<String, Set<String>> serving = Map.of();
    private volatile Instant started;

    private record Snapshot(Instant at, List<Record> records) {}

    /** One member as its record says. */
    public record Record(String agent, Instant heartbeat, Instant started, Map<String, Set<String>> secrets) {}

    public Members(SecretStore store, SecretPath state, Clock clock) {
        this(store, state, clock, FRESH);
    }

    /** With {@code fresh} the time a read of the records is reused (zero: read at every call). */
    public Members(SecretStore store, SecretPath state, Clock clock, Duration fresh) {
        this.store = store;
        this.folder = state.child("members");
        this.clock = clock;
        this.fresh = fresh;
    }

    /**
     * Writes this agent's record: the secrets it serves with targets of its own, and a fresh
     * heartbeat. A secret without targets on this agent is not served here.
     */
    public void register(String agent, Map<String, Set<String>> secretsWithTargets) throws StoreException {
        Map<String, Set<String>> served = new TreeMap<>();
        secretsWithTargets.forEach((id, targets) -> {
            if (!targets.isEmpty()) served.put(id, new TreeSet<>(targets));
        });
        serving = served;
        if (started == null) started = clock.instant();
        heartbeat(agent);
    }

    /** Renews this agent's record with the secrets it registered last. */
    public void heartbeat(String agent) throws StoreException {
        Map<String, Object> secrets = new TreeMap<>();
        serving.forEach((id, targets) -> secrets.put(id, List.copyOf(targets)));
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("agent", agent);
        doc.put("heartbeat", clock.instant().toString());
        doc.put("started", (started == null ? clock.instant() : started).toString());
        doc.put("secrets", secrets);
        store.write(folder.child(agent), SecretData.of(doc), OptionalInt.empty());
    }

    /** Every member's record (unreadable ones left out). */
    public List<Record> all() throws StoreException {
        Snapshot s = snapshot;
        Instant now = clock.instant();
        if (s != null && now.isBefore(s.at().plus(fresh)) && !now.isBefore(s.at())) return s.records();
        List<Record> records = new ArrayList<>();
        for (String name : store.list(folder)) {
            if (name.endsWith("/")) continue;
            Optional<VersionedSecret> v;
            try {
                v = store.read(folder.child(name));
            } catch (VersionGoneException gone) {
                continue;
            }
            v.flatMap(x -> parse(x.data())).ifPresent(records::add);
        }
        snapshot = new Snapshot(now, List.copyOf(records));
        return records;
    }

    @Override
    public List<Member> serving(String secretId) throws StoreException {
        List<Member> out = new ArrayList<>();
        for (Record r : all()) {
            Set<String> targets = r.secrets().get(secretId);
            if (targets != null && !targets.isEmpty()) out.add(new Member(r.agent(), r.heartbeat(), targets));
        }
        return out;
    }

    /** Removes a member's record (a decommissioned host). */
    public void forget(String agent) throws StoreException {
        store.deleteAll(folder.child(agent));
        snapshot = null;
    }

    private static Optional<Record> parse(SecretData d) {
        try {
            String agent = d.string("agent").orElse(null);
            Instant heartbeat = Instant.parse(d.string("heartbeat").orElseThrow());
            Instant started = d.string("started").map(Instant::parse).orElse(heartbeat);
            Map<String, Set<String>> secrets = new TreeMap<>();
            if (d.fields().get("secrets") instanceof Map<?, ?> m) {
                m.forEach((id, targets) -> {
                    Set<String> t = new TreeSet<>();
                    if (targets instanceof List<?> l) l.forEach(x -> t.add(String.valueOf(x)));
                    secrets.put(String.valueOf(id), t);
                });
            }
            return agent == null ? Optional.empty() : Optional.of(new Record(agent, heartbeat, started, secrets));
        } catch (DateTimeParseException | java.util.NoSuchElementException bad) {
            return Optional.empty();
        }
    }
}
