package io.keyward.sim;

import io.keyward.rotation.Decision;
import io.keyward.rotation.Ledger;
import io.keyward.rotation.Outcome;
import io.keyward.rotation.Plugins;
import io.keyward.rotation.SecretBinding;
import io.keyward.rotation.SecretData;
import io.keyward.rotation.SecretMetadata;
import io.keyward.rotation.SecretPath;
import io.keyward.rotation.StoreException;
import io.keyward.rotation.VersionGoneException;
import io.keyward.rotation.VersionedSecret;
import io.keyward.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Random;
import java.util.Set;
import java.util.function.Function;

/**
 * What the simulated agents share (the store, the clock, the issuers, the hosts' targets) and
 * the events that change it; {@link Invariants} checks it against the truth only the simulator
 * can see.
 */
final class World {

    final long seed;
    final Random random;
    final MutableClock clock;
    final MemoryStore store;
    final SimParts.Faults faults;
    final List<Simulation.Secret> secrets = new ArrayList<>();
    final List<Simulation.Agent> agents = new ArrayList<>();
    final List<String> violations = new ArrayList<>();
    final List<String> trace = new ArrayList<>();
    final List<Plugins.Notice> notices = new ArrayList<>();
    private final boolean tracing;
    private final Invariants invariants = new Invariants(this);
    final AuditTrail audit = new AuditTrail(this);
    int event;
    int rotations;
    int processes;

    World(long seed, Random random, MutableClock clock, boolean tracing) {
        this.seed = seed;
        this.random = random;
        this.clock = clock;
        this.store = new MemoryStore(clock);
        this.faults = new SimParts.Faults(random);
        this.tracing = tracing;
    }

    void add(Simulation.Secret s) {
        secrets.add(s);
        s.issuer.onRevoke = key -> invariants.revoked(s, key);
        s.issuer.beforeNew = key -> invariants.oneAtATime(s, key);
    }

    // ---- events -------------------------------------------------------------------------------

    void act(Simulation.Agent a, Simulation.Secret s, String what, Function<SecretBinding, Outcome> action) {
        if (a.state != Simulation.State.UP) {
            log(a.id + " " + what + " " + s.id + ": down");
            return;
        }
        try {
            note(a, what + " " + s.id, action.apply(a.bindings.get(s.id)));
        } catch (SimParts.Crash c) {
            a.crash();
            log(a.id + " " + what + " " + s.id + ": CRASH " + c.getMessage());
        }
    }

    void note(Simulation.Agent a, String what, Outcome o) {
        if (tracing) log(a.id + "@" + a.host + " " + what + ": " + o.describe());
    }

    void notice(Plugins.Notice n) {
        notices.add(n);
        if (tracing) log("  notice " + n.word() + " " + n.secretId() + ": " + n.detail());
    }

    void tick(Duration d) {
        clock.advance(d);
        log("clock +" + d.toSeconds() + "s");
        heartbeats();
    }

    /** Every running agent renews its record (the service's timer). */
    void heartbeats() {
        for (Simulation.Agent a : agents) {
            if (a.state != Simulation.State.UP) continue;
            try {
                a.members.heartbeat();
            } catch (StoreException e) {
                // a missed heartbeat; the next one may land
            } catch (SimParts.Crash c) {
                a.crash();
                log(a.id + " heartbeat: CRASH " + c.getMessage());
            }
        }
    }

    void crash(Simulation.Agent a) {
        if (a.state == Simulation.State.UP) {
            a.crash();
            log(a.id + " killed");
        }
    }

    void restart(Simulation.Agent a) {
        if (a.state == Simulation.State.UP) return;
        if (a.state == Simulation.State.SILENT && random.nextInt(3) != 0) return;
        log(a.id + " starts");
        try {
            a.start();
        } catch (SimParts.Crash c) {
            a.crash();
            log(a.id + " start: CRASH " + c.getMessage());
        }
    }

    /**
     * A host down for a while (perhaps past the member timeout) while another agent rotates a
     * secret, and started again just before that agent rotates once more: its read of the members
     * may be from the absence.
     */
    void away(Simulation.Agent a, Duration d) {
        List<Simulation.Agent> up = agents.stream().filter(x -> x != a && x.state == Simulation.State.UP).toList();
        if (a.state != Simulation.State.UP || up.isEmpty()) return;
        Simulation.Agent other = up.get(random.nextInt(up.size()));
        Simulation.Secret s = secrets.get(random.nextInt(secrets.size()));
        log(a.id + " away for " + d.toMinutes() + " min");
        crash(a);
        tick(d);
        act(other, s, "rotate --now", b -> other.rotator.rotate(b, true, false, "manual"));
        restart(a);
        tick(Duration.ofSeconds(random.nextInt(120)));
        act(other, s, "rotate --now", b -> other.rotator.rotate(b, true, false, "manual"));
    }

    void silence(Simulation.Agent a) {
        a.crash();
        a.state = Simulation.State.SILENT;
        log(a.id + " goes silent");
    }

    void toggleTarget(Simulation.Secret s) {
        List<SimParts.Target> all = new ArrayList<>();
        s.targets.values().forEach(all::addAll);
        SimParts.Target t = all.get(random.nextInt(all.size()));
        if (random.nextBoolean()) t.down = !t.down;
        else t.flaky = !t.flaky;
        log("target " + t + (t.down ? " down" : " up") + (t.flaky ? ", flaky" : ""));
    }

    /**
     * An operator writes a new value to the live path: a key made by hand at the issuer. The
     * operator then answers for the key it replaces, and for the new key of a rotation in flight
     * whose promotion it may overwrite.
     */
    void operatorWrite(Simulation.Secret s) {
        String value = s.kind == Decision.Source.GENERATED ? s.id + "-op" + event : s.issuer.operatorKey();
        liveValue(s).ifPresent(s.issuer.operators::add);
        if (inFlight(s).isPresent()) {
            for (SecretData d : store.everyVersion(Simulation.STATE.child("pending").child(s.id))) {
                d.string("key").ifPresent(s.issuer.operators::add);
            }
        }
        try {
            int v = store.write(s.live(), SecretData.of("key", value), OptionalInt.empty());
            log("operator writes " + s.id + " v" + v);
        } catch (StoreException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The agent's state folder holds a ledger that is not its record of this Vault: left by a run
     * against another Vault, by an earlier life of the secrets (deleted and made again, Vault
     * restored from an older state), or by another agent that shared the folder. Every target is
     * shown at the live version or ahead of it, with values this Vault never had.
     */
    void foreignLedger(Simulation.Agent a) {
        String here;
        try {
            here = store.read(Simulation.STATE.child("installation")).flatMap(v -> v.data().string("id")).orElse("none yet");
        } catch (VersionGoneException e) {
            here = "none yet";
        }
        String vault = random.nextBoolean() ? "kw-another-vault" : here; // this Vault's id: restored, or a secret made again
        for (Simulation.Secret s : secrets) {
            int live = store.metadata(s.live()).map(SecretMetadata::currentVersion).orElse(0);
            int ahead = List.of(0, 1, 3).get(random.nextInt(3));
            java.util.Map<String, Ledger.Delivery> targets = new java.util.TreeMap<>();
            for (SimParts.Target t : s.targets.getOrDefault(a.host, List.of())) {
                targets.put(t.id, new Ledger.Delivery(live + ahead, "hmac-sha256:" + Long.toHexString(random.nextLong()), t.id));
            }
            try {
                a.ledger.put(s.id, new Ledger.Entry(targets, null, vault));
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            }
        }
        log(a.id + " finds a ledger that is not its own (another Vault or an earlier life)");
    }

    /** A readable target (a file) starts or stops losing writes: each reports success and leaves the content as it was. */
    void loseWrites(Simulation.Secret s) {
        List<SimParts.Target> readable = new ArrayList<>();
        s.targets.values().forEach(ts -> ts.stream().filter(t -> t.readable).forEach(readable::add));
        if (readable.isEmpty()) return;
        SimParts.Target t = readable.get(random.nextInt(readable.size()));
        t.losesWrites = !t.losesWrites;
        log("target " + t + (t.losesWrites ? " loses its writes" : " keeps its writes again"));
    }

    /** An operator deletes the live version; its key becomes the operator's to deal with. */
    void operatorDelete(Simulation.Secret s) {
        Optional<SecretMetadata> m = store.metadata(s.live());
        if (m.isEmpty() || m.get().currentVersion() == 0) return;
        liveValue(s).ifPresent(s.issuer.operators::add);
        store.deleteVersions(s.live(), List.of(m.get().currentVersion()));
        log("operator deletes " + s.id + " v" + m.get().currentVersion());
    }

    void maxVersionsOne(Simulation.Secret s) {
        store.maxVersions(s.live(), 1);
        log("operator sets max_versions 1 on " + s.id);
    }

    /** Checks every invariant (see {@link Invariants}). */
    void check() {
        invariants.check();
    }

    // ---- what the store holds, read past every fault --------------------------------------------

    /** Members on a host whose record is within the timeout now. */
    List<String> liveMembersOn(String host) {
        List<String> live = new ArrayList<>();
        Instant now = clock.instant();
        for (Simulation.Agent a : agents) {
            if (!a.host.equals(host)) continue;
            Optional<Instant> hb = heartbeat(a.id);
            if (hb.isPresent() && !hb.get().plus(Simulation.MEMBER_TIMEOUT).isBefore(now)) live.add(a.id);
        }
        return live;
    }

    private Optional<Instant> heartbeat(String agent) {
        try {
            return store.read(Simulation.STATE.child("members").child(agent)).flatMap(v -> v.data().string("heartbeat"))
                    .map(Instant::parse);
        } catch (VersionGoneException e) {
            return Optional.empty();
        }
    }

    Set<String> stored(Simulation.Secret s) {
        Set<String> keys = new HashSet<>();
        for (SecretPath p : List.of(s.live(), Simulation.STATE.child("pending").child(s.id))) {
            for (SecretData d : store.everyVersion(p)) d.string("key").ifPresent(keys::add);
        }
        for (SecretData d : retiring(s)) d.string("key").ifPresent(keys::add);
        keys.addAll(handedOver(s));
        return keys;
    }

    /** Keys keyward kept for a person (a promotion it could not tell apart from someone else's write). */
    Set<String> handedOver(Simulation.Secret s) {
        SecretPath folder = Simulation.STATE.child("superseded").child(s.id);
        Set<String> keys = new HashSet<>();
        for (String name : store.list(folder)) {
            for (SecretData d : store.everyVersion(folder.child(name))) d.string("key").ifPresent(keys::add);
        }
        return keys;
    }

    /** Every kept old value of a secret's rotations (one path per rotation). */
    List<SecretData> retiring(Simulation.Secret s) {
        SecretPath folder = Simulation.STATE.child("retiring").child(s.id);
        List<SecretData> out = new ArrayList<>();
        for (String name : store.list(folder)) out.addAll(store.everyVersion(folder.child(name)));
        return out;
    }

    /** The rotation id of the journal entry in flight, if any. */
    Optional<String> inFlight(Simulation.Secret s) {
        try {
            Optional<VersionedSecret> j = store.read(Simulation.STATE.child("journal").child(s.id));
            if (j.isEmpty()) return Optional.empty();
            String phase = j.get().data().string("phase").orElse("");
            if (phase.equals("retired") || phase.equals("rolled_back")) return Optional.empty();
            return j.get().data().string("rotation_id");
        } catch (VersionGoneException e) {
            return Optional.empty();
        }
    }

    Optional<String> liveValue(Simulation.Secret s) {
        try {
            return store.read(s.live()).flatMap(v -> v.data().string("key"));
        } catch (VersionGoneException e) {
            return Optional.empty();
        }
    }

    void violate(String what) {
        violations.add("event " + event + ": " + what);
        log("VIOLATION " + what);
    }

    void log(String line) {
        if (tracing) trace.add("#" + event + " " + Duration.between(Simulation.START, clock.instant()).toSeconds() + "s " + line);
    }
}
