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
import java.util.TreeSet;

/**
 * The fleet's membership in Vault: one record per agent at {@code <state>/members/<agent>} with
 * who runs it (instance, host, process, version, start), its last heartbeat and, per secret it
 * serves with targets of its own, their ids and the hash of the shared part of its policy. Each
 * agent writes only its own record; every agent reads all of them to know whose
 * acknowledgements a retirement waits for. Reads are kept for a few seconds, so that many
 * rotations ending together share them.
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

    /** One member as its record says. */
    public record Record(String agent, String instance, String host, long pid, String version, Instant started,
                         Instant heartbeat, boolean daemon, boolean stopped, Map<String, Served> secrets) {

        /** Heard of within the timeout. */
        public boolean live(Instant now, Duration timeout) {
            return !heartbeat.plus(timeout).isBefore(now);
        }
    }

    private final SecretStore store;
    private final SecretPath folder;
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
     * names it.
     */
    public void start(Map<String, Served> secrets, Duration heartbeat) throws StoreException {
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
        Map<String, Object> secrets = new TreeMap<>();
        serving.forEach((id, s) -> secrets.put(id, Map.of("targets", List.copyOf(new TreeSet<>(s.targets())),
                "policy", s.policy() == null ? "" : s.policy())));
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
        doc.put("secrets", secrets);
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
        Snapshot s = snapshot;
        Instant now = clock.instant();
        if (s != null && now.isBefore(s.at().plus(fresh)) && !now.isBefore(s.at())) return s.records();
        List<Record> records = new ArrayList<>();
        for (String name : store.list(folder)) {
            if (!name.endsWith("/")) read(name).ifPresent(records::add);
        }
        snapshot = new Snapshot(now, List.copyOf(records));
        return records;
    }

    @Override
    public List<Member> serving(String secretId) throws StoreException {
        List<Member> out = new ArrayList<>();
        for (Record r : all()) {
            Served s = r.secrets().get(secretId);
            if (s != null && !s.targets().isEmpty()) out.add(new Member(r.agent(), r.heartbeat(), s.targets(), s.policy()));
        }
        return out;
    }

    /** Removes a member's record (a decommissioned host). */
    public boolean forget(String agent) throws StoreException {
        boolean known = read(agent).isPresent();
        store.deleteAll(folder.child(agent));
        snapshot = null;
        return known;
    }

    private Optional<Record> read(String agent) throws StoreException {
        try {
            return store.read(folder.child(agent)).flatMap(v -> parse(v.data()));
        } catch (VersionGoneException gone) {
            return Optional.empty();
        }
    }

    private static Optional<Record> parse(SecretData d) {
        try {
            String agent = d.string("agent").orElse(null);
            Instant heartbeat = Instant.parse(d.string("heartbeat").orElseThrow());
            Instant started = d.string("started").map(Instant::parse).orElse(heartbeat);
            Map<String, Served> secrets = new TreeMap<>();
            if (d.fields().get("secrets") instanceof Map<?, ?> m) {
                m.forEach((id, served) -> {
                    Set<String> targets = new TreeSet<>();
                    String policy = null;
                    Object list = served instanceof Map<?, ?> x ? x.get("targets") : served;
                    if (list instanceof List<?> l) l.forEach(t -> targets.add(String.valueOf(t)));
                    if (served instanceof Map<?, ?> x && x.get("policy") instanceof String p && !p.isEmpty()) policy = p;
                    secrets.put(String.valueOf(id), new Served(targets, policy));
                });
            }
            if (agent == null) return Optional.empty();
            long pid = d.fields().get("pid") instanceof Number n ? n.longValue() : -1;
            return Optional.of(new Record(agent, d.string("instance").orElse(""), d.string("host").orElse("?"), pid,
                    d.string("version").orElse("?"), started, heartbeat, Boolean.TRUE.equals(d.fields().get("daemon")),
                    Boolean.TRUE.equals(d.fields().get("stopped")), secrets));
        } catch (java.time.format.DateTimeParseException | java.util.NoSuchElementException bad) {
            return Optional.empty();
        }
    }
}
