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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;

/**
 * The fleet's membership in Vault: per agent a small record at {@code <state>/members/<agent>}
 * with who runs it (instance, host, process, version, start) and its last heartbeat, and the
 * secrets it serves with targets of its own (their ids and the hash of the shared part of its
 * policy) at {@code <state>/serving/<agent>}, as one text, written only when it changes: a
 * heartbeat stays small whatever the policy, and no write nears Vault's limit of JSON strings per
 * request. Each agent writes only its own records; every agent reads all of them to know whose
 * acknowledgements a retirement waits for. Reads are kept for a few seconds, so that many
 * rotations ending together share them, and a served set is read again only when its digest moved.
 */
public final class Members implements Fleet {

    /** How long a read of the membership records is reused. */
    static final Duration FRESH = Duration.ofSeconds(5);

    /** Who this process is. */
    public record Identity(String agent, String instance, String host, long pid, String version) {
        public static Identity of(String agent, String version) {
            String host;
            try {
                host = java.net.InetAddress.getLocalHost().getHostName();
            } catch (java.net.UnknownHostException e) {
                host = "unknown";
            }
            return new Identity(agent, java.util.UUID.randomUUID().toString(), host, ProcessHandle.current().pid(), version);
        }
    }

    /** What a member serves of one secret: its targets and the hash of the shared part of its policy. */
    public record Served(Set<String> targets, String policy) {
        public Served {
            targets = Set.copyOf(targets);
        }
    }

    /** One member as its records say. */
    public record Record(String agent, String instance, String host, long pid, String version, Instant started,
                         Instant heartbeat, boolean daemon, boolean stopped, Map<String, Served> secrets) {



        /** Heard of within the timeout. */
        public boolean live(Instant now, Duration timeout) {
            return !heartbeat.plus(timeout).isBefore(now);
        }
    }

    private final SecretStore store;
    private final SecretPath folder;
    private final SecretPath servingFolder;
    private final Map<String, ServedSet> servedCache = new java.util.concurrent.ConcurrentHashMap<>();
    private final Clock clock;
    private final Duration fresh;
    private final Identity self;
    private final Instant started;
    private volatile Snapshot snapshot;
    private volatile Map<String, Served> serving = Map.of();
    private volatile boolean daemon;

    private record Snapshot(Instant at, List<Record> records) {}

    public Members(SecretStore store, SecretPath state, Clock clock, Identity self) {
        this(store, state, clock, FRESH, self);
    }

    /** With {@code fresh} the time a read of the records is reused (zero: read at every call). */
    public Members(SecretStore store, SecretPath state, Clock clock, Duration fresh, Identity self) {
        this.store = store;
        this.folder = state.child("members");
        this.servingFolder = state.child("serving");
        this.clock = clock;
        this.fresh = fresh;
        this.self = self;
        this.started = clock.instant();
    }

    public Identity self() {
        return self;
    }

    /**
     * A command that delivers registers this agent, unless a service with this agent id is
     * running (its record is left as it is: it serves the same secrets).
     */
    public void register(Map<String, Served> secrets) throws StoreException {
        serving = served(secrets);
        Optional<Record> mine = read(self.agent());
        if (mine.isPresent() && running(mine.get(), Duration.ofMinutes(2))) return;
        write(false);
    }

    /**
     * {@code keyward run} registers this agent as its service; a second running service with the
     * same agent id (on another host, or a live process on this one) is refused with a line that
     * names it. Returns this agent's record as it was before (empty for a new agent): its
     * heartbeat says how long the agent was away.
     */
    public Optional<Record> start(Map<String, Served> secrets, Duration heartbeat) throws StoreException {
        Optional<Record> other = read(self.agent());
        if (other.isPresent() && running(other.get(), heartbeat.multipliedBy(3))) {
            Record r = other.get();
            throw new IllegalArgumentException("agent id " + self.agent() + " is in use by a keyward run on host "
                    + r.host() + " (process " + r.pid() + ", started " + r.started() + ", last heartbeat " + r.heartbeat()
                    + "): give each host its own agent.id, or stop that one first");
        }
        serving = served(secrets);
        daemon = true;
        write(false);
        return other;
    }

    /** Renews this agent's record with the secrets it registered last. */
    public void heartbeat() throws StoreException {
        write(false);
    }

    /** A service that stops cleanly says so, so that it may start again at once (it stays a member). */
    public void stopped() throws StoreException {
        if (daemon) write(true);
    }

    /** True when the record is another process's service that still runs. */
    private boolean running(Record r, Duration silence) {
        if (!r.daemon() || r.stopped() || r.instance().equals(self.instance())) return false;
        if (r.host().equals(self.host())) {
            return ProcessHandle.of(r.pid()).map(ProcessHandle::isAlive).orElse(false);
        }
        return r.live(clock.instant(), silence);
    }

    private void write(boolean stop) throws StoreException {
        ServedSet set = ServedSet.of(serving);
        ServedSet stored = servedCache.get(self.agent());
        if (stored == null || !stored.digest().equals(set.digest())) {
            store.write(servingFolder.child(self.agent()), SecretData.of(Map.of("digest", set.digest(), "secrets", set.text())),
                    OptionalInt.empty());
            servedCache.put(self.agent(), set);
        }
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("agent", self.agent());
        doc.put("instance", self.instance());
        doc.put("host", self.host());
        doc.put("pid", self.pid());
        doc.put("version", self.version());
        doc.put("started", started.toString());
        doc.put("heartbeat", clock.instant().toString());
        doc.put("daemon", daemon);
        doc.put("stopped", stop);
        doc.put("serving", set.digest());
        doc.put("secrets_served", set.secrets().size());
        store.write(folder.child(self.agent()), SecretData.of(doc), OptionalInt.empty());
    }

    private static Map<String, Served> served(Map<String, Served> secrets) {
        Map<String, Served> out = new TreeMap<>();
        secrets.forEach((id, s) -> {
            if (!s.targets().isEmpty()) out.put(id, s);
        });
        return out;
    }

    /** Every member's record (unreadable ones left out). */
    public List<Record> all() throws StoreException {
        return snapshot(false).records();
    }

    /** The records, from the last read if it is fresh and {@code now} is false. */
    private Snapshot snapshot(boolean now) throws StoreException {
        Snapshot s = snapshot;
        Instant at = clock.instant();
        if (!now && s != null && at.isBefore(s.at().plus(fresh)) && !at.isBefore(s.at())) return s;
        List<Record> records = new ArrayList<>();
        for (String name : store.list(folder)) {
            if (!name.endsWith("/")) read(name).ifPresent(records::add);
        }
        Snapshot read = new Snapshot(at, List.copyOf(records));
        snapshot = read;
        return read;
    }

    @Override
    public List<Member> serving(String secretId) throws StoreException {
        return serving(snapshot(false), secretId);
    }

    @Override
    public List<Member> servingNow(String secretId) throws StoreException {
        return serving(snapshot(true), secretId);
    }

    private static List<Member> serving(Snapshot snapshot, String secretId) {
        List<Member> out = new ArrayList<>();
        for (Record r : snapshot.records()) {
            Served s = r.secrets().get(secretId);
            if (s != null && !s.targets().isEmpty()) {
                out.add(new Member(r.agent(), r.heartbeat(), s.targets(), s.policy(), snapshot.at()));
            }
        }
        return out;
    }

    /** Removes a member's record (a decommissioned host). */
    public boolean forget(String agent) throws StoreException {
        boolean known = read(agent).isPresent();
        store.deleteAll(folder.child(agent));
        store.deleteAll(servingFolder.child(agent));
        servedCache.remove(agent);
        snapshot = null;
        return known;
    }

    private Optional<Record> read(String agent) throws StoreException {
        Optional<Header> h;
        try {
            h = store.read(folder.child(agent)).flatMap(v -> parse(v.data()));
        } catch (VersionGoneException gone) {
            return Optional.empty();
        }
        if (h.isEmpty()) return Optional.empty();
        Record rec = h.get().record();
        return Optional.of(new Record(rec.agent(), rec.instance(), rec.host(), rec.pid(), rec.version(), rec.started(),
                rec.heartbeat(), rec.daemon(), rec.stopped(), served(agent, h.get().serving())));
    }

    /** A member's served set: from the cache while its digest is the one its record names, else read again. */
    private Map<String, Served> served(String agent, String digest) throws StoreException {
        if (digest == null) return Map.of();
        ServedSet cached = servedCache.get(agent);
        if (cached != null && cached.digest().equals(digest)) return cached.secrets();
        Optional<VersionedSecret> v;
        try {
            v = store.read(servingFolder.child(agent));
        } catch (VersionGoneException gone) {
            return Map.of();
        }
        if (v.isEmpty()) return Map.of();
        Map<String, Served> secrets = ServedSet.parse(v.get().data().string("secrets").orElse(""));
        servedCache.put(agent, new ServedSet(v.get().data().string("digest").orElse(""), secrets));
        return secrets;
    }

    /** A member's small record, before its served set is read. */
    private record Header(Record record, String serving) {}

    private static Optional<Header> parse(SecretData d) {
        try {
            String agent = d.string("agent").orElse(null);
            if (agent == null) return Optional.empty();
            Instant heartbeat = Instant.parse(d.string("heartbeat").orElseThrow());
            Instant started = d.string("started").map(Instant::parse).orElse(heartbeat);
            long pid = d.fields().get("pid") instanceof Number n ? n.longValue() : -1;
            Record r = new Record(agent, d.string("instance").orElse(""), d.string("host").orElse("?"), pid,
                    d.string("version").orElse("?"), started, heartbeat, Boolean.TRUE.equals(d.fields().get("daemon")),
                    Boolean.TRUE.equals(d.fields().get("stopped")), Map.of());
            return Optional.of(new Header(r, d.string("serving").filter(x -> !x.isEmpty()).orElse(null)));
        } catch (java.time.format.DateTimeParseException | java.util.NoSuchElementException bad) {
            return Optional.empty();
        }
    }


}
