package io.keyward.sim;

import io.keyward.fleet.Members;
import io.keyward.policy.ConfigException;
import io.keyward.policy.Policy;
import io.keyward.rotation.Decision;
import io.keyward.rotation.Fingerprinter;
import io.keyward.rotation.KeySource;
import io.keyward.rotation.Ledger;
import io.keyward.rotation.Outcome;
import io.keyward.rotation.Plugins;
import io.keyward.rotation.Rotator;
import io.keyward.rotation.SecretBinding;
import io.keyward.rotation.SecretPath;
import io.keyward.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One seeded schedule of the protocol: 1-4 agents on 1-3 hosts (each host with targets of its
 * own, each agent with its own audit key and ledger) share one in-memory Vault, one issuer per
 * secret and one clock, and go through random events: scheduled runs, watches, resumes, crashes
 * at any store call (before it or after it took effect), restarts, Vault errors and lost answers,
 * target, issuer and verifier failures, operator writes and deletes, max_versions set to 1,
 * members going silent and coming back, clock ticks and jumps, a ledger that is not the agent's
 * own (left by another Vault or an earlier life of a secret), and files that lose writes. {@link World} checks the
 * invariants after every event and convergence after a quiet period at the end.
 */
final class Simulation {

    static final Instant START = Instant.parse("2026-01-05T00:00:00Z");
    static final Duration LEASE = Duration.ofMinutes(2);
    static final Duration MEMBER_TIMEOUT = Duration.ofMinutes(15);
    /** How long an agent's read of the membership records is reused: never, or up to half the timeout. */
    static final List<Duration> MEMBER_READS = List.of(Duration.ZERO, Duration.ofMinutes(8), Duration.ofMinutes(8));
    static final SecretPath STATE = SecretPath.of("secret", "keyward");
    private static final Map<String, Policy.SecretPolicy> POLICIES = new ConcurrentHashMap<>();

    /** What one schedule found. */
    record Result(long seed, int events, List<String> violations, List<String> trace) {}

    enum State { UP, DOWN, SILENT }

    /** One managed secret as the world sees it. */
    static final class Secret {
        final String id;
        final Decision.Source kind;
        final Policy.SecretPolicy policy;
        final SimParts.Issuer issuer;
        final SimParts.Verifier verifier;
        /** Targets by host. */
        final Map<String, List<SimParts.Target>> targets = new LinkedHashMap<>();
        int generated;
        /** The rotation id the world last saw in the journal. */
        String lastRotation = "";

        Secret(String id, Decision.Source kind, Policy.SecretPolicy policy, SimParts.Issuer issuer, SimParts.Verifier verifier) {
            this.id = id;
            this.kind = kind;
            this.policy = policy;
            this.issuer = issuer;
            this.verifier = verifier;
        }

        SecretPath live() {
            return SecretPath.of(policy.mount(), policy.path());
        }
    }

    /** One agent: its identity and disk (audit key, ledger) outlive its process (rotator, store view). */
    final class Agent {
        final String id;
        final String host;
        final Fingerprinter fingerprints;
        final Ledger ledger = Ledger.inMemory();
        State state = State.DOWN;
        Rotator rotator;
        Members members;
        final Map<String, SecretBinding> bindings = new LinkedHashMap<>();

        Agent(String id, String host, byte[] key) {
            this.id = id;
            this.host = host;
            this.fingerprints = new Fingerprinter(key);
        }

        /** A new process: fresh store view and rotator, registers as a member, resumes what is in flight. */
        void start() {
            SimParts.FaultyStore view = new SimParts.FaultyStore(world.store, world.faults,
                    (p, v, d) -> world.audit.written(id, p, v, d));
            // membership reads kept for a while, as the service keeps them (5 s against a 10 s timeout at worst)
            members = new Members(view, STATE, world.clock, MEMBER_READS.get(world.random.nextInt(MEMBER_READS.size())),
                    new Members.Identity(id, id + "-" + (++world.processes), host, 0, "sim"));
            rotator = Rotator.builder(view, new Rotator.Settings(STATE, id, LEASE, MEMBER_TIMEOUT))
                    .audit(e -> world.audit.audited(id, e), fingerprints).clock(world.clock).waits(d -> { }, world.random::nextDouble)
                    .notifier(world::notice, Runnable::run).fleet(members, ledger)
                    .ids(() -> "r" + (++world.rotations)).build();
            bindings.clear();
            Map<String, Members.Served> serving = new LinkedHashMap<>();
            for (Secret s : world.secrets) {
                List<Plugins.Target> mine = new ArrayList<>(s.targets.getOrDefault(host, List.of()));
                SecretBinding b = new SecretBinding(s.policy, source(s), s.verifier == null ? List.of() : List.of(s.verifier), mine);
                bindings.put(s.id, b);
                serving.put(s.id, new Members.Served(b.targetIds(), b.shared()));
            }
            state = State.UP;
            try {
                members.register(serving);
                for (SecretBinding b : bindings.values()) world.note(this, "start resume", rotator.resume(b));
            } catch (io.keyward.rotation.StoreException e) {
                state = State.DOWN; // could not register: the service would exit and be restarted
            }
        }

        private KeySource source(Secret s) {
            Plugins.Generator g = () -> s.id + "-g" + (++s.generated);
            return switch (s.kind) {
                case ISSUED -> new KeySource.Issued(s.issuer);
                case ACCEPTED -> new KeySource.Generated(g, Optional.of(s.issuer));
                default -> new KeySource.Generated(g, Optional.empty());
            };
        }

        void crash() {
            state = State.DOWN;
            rotator = null;
            members = null;
        }
    }

    final World world;
    private final Random r;
    private final int events;

    private Simulation(long seed, int events, boolean tracing) {
        this.r = new Random(seed);
        this.events = events;
        this.world = new World(seed, r, new MutableClock(START), tracing);
        build();
    }

    static Result run(long seed, int events, boolean tracing) {
        Simulation sim = new Simulation(seed, events, tracing);
        sim.play();
        return new Result(seed, events, sim.world.violations, sim.world.trace);
    }

    private void build() {
        int agents = 1 + r.nextInt(4);
        int hosts = 1 + r.nextInt(Math.min(3, agents));
        int secrets = 1 + r.nextInt(2);
        List<String> hostNames = new ArrayList<>();
        for (int h = 0; h < hosts; h++) hostNames.add("host" + (h + 1));
        for (int i = 0; i < secrets; i++) {
            String id = "s" + (i + 1);
            Decision.Source kind = List.of(Decision.Source.ISSUED, Decision.Source.ISSUED, Decision.Source.ACCEPTED,
                    Decision.Source.GENERATED).get(r.nextInt(4));
            String grace = List.of("0s", "30s", "5m", "20m").get(r.nextInt(4));
            boolean window = r.nextInt(5) == 0;
            boolean verify = r.nextBoolean();
            Policy.SecretPolicy p = policy(id, kind, grace, window, 1 + r.nextInt(2));
            SimParts.Issuer issuer = new SimParts.Issuer(id, world.faults);
            Secret s = new Secret(id, kind, p, issuer, verify ? new SimParts.Verifier(world.faults, "key") : null);
            for (String h : hostNames) {
                List<SimParts.Target> ts = new ArrayList<>();
                ts.add(new SimParts.Target("app", h, "key", r.nextBoolean(), r)); // a file, or a reload
                if (r.nextInt(3) == 0) ts.add(new SimParts.Target("web", h, "key", false, r)); // a webhook
                s.targets.put(h, ts);
            }
            world.add(s);
        }
        for (int a = 0; a < agents; a++) {
            byte[] key = new byte[16];
            r.nextBytes(key);
            world.agents.add(new Agent("agent" + (a + 1), hostNames.get(a % hosts), key));
        }
        for (Agent a : world.agents) a.start();
    }

    private static Policy.SecretPolicy policy(String id, Decision.Source kind, String grace, boolean window, int attempts) {
        String generator = switch (kind) {
            case ISSUED -> "    generator: { type: issuer, issuer: iss }\n";
            case ACCEPTED -> "    generator: { type: random, length: 16 }\n    issuer: iss\n";
            default -> "    generator: { type: random, length: 16 }\n";
        };
        String yaml = "issuers:\n  iss: { type: command, issue: [x], revoke: [x] }\nsecrets:\n  - id: " + id + "\n"
                + "    path: app/" + id + "\n    fields: [key]\n" + generator
                + "    schedule: { every: 30m" + (window ? ", window: { days: [mon-sun], hours: \"00:00-12:00\" }" : "")
                + " }\n    grace: " + grace + "\n    attempts: " + attempts + "\n    backoff: { initial: 0s, max: 0s }\n"
                + "    retry_cap: 10m\n    watch: 1m\n";
        return POLICIES.computeIfAbsent(yaml, y -> {
            try {
                return Policy.parse("sim.yaml", y).secrets().get(0);
            } catch (ConfigException e) {
                throw new IllegalStateException(e.getMessage(), e);
            }
        });
    }

    private void play() {
        for (int i = 1; i <= events && world.violations.isEmpty(); i++) {
            world.event = i;
            step();
            world.check();
        }
        if (world.violations.isEmpty()) new Quiet(world).settle();
    }

    /** One random event. */
    private void step() {
        int k = r.nextInt(104);
        Agent a = world.agents.get(r.nextInt(world.agents.size()));
        Secret s = world.secrets.get(r.nextInt(world.secrets.size()));
        if (k < 28) world.act(a, s, "schedule", b -> a.rotator.rotate(b, false, false, "schedule"));
        else if (k < 46) world.act(a, s, "watch", b -> a.rotator.sync(b));
        else if (k < 52) world.act(a, s, "resume", b -> a.rotator.resume(b));
        else if (k < 55) world.act(a, s, "rotate --now", b -> a.rotator.rotate(b, true, false, "manual"));
        else if (k < 56) world.act(a, s, "rotate --emergency", b -> a.rotator.rotate(b, true, true, "emergency"));
        else if (k < 66) world.tick(Duration.ofSeconds(1 + r.nextInt(180)));
        else if (k < 67) world.tick(Duration.ofMinutes(5 + r.nextInt(40)));
        else if (k < 70) world.away(a, Duration.ofMinutes(5 + r.nextInt(40))); // a host down a long while, then back
        else if (k < 74) world.crash(a);
        else if (k < 80) world.restart(a);
        else if (k < 81) world.silence(a);
        else if (k < 84) world.faults.store = List.of(0.0, 0.0, 0.03, 0.1).get(r.nextInt(4));
        else if (k < 87) world.toggleTarget(s);
        else if (k < 89) world.faults.issuerDown = !world.faults.issuerDown;
        else if (k < 90) world.faults.issuer = world.faults.issuer > 0 ? 0 : 0.2;
        else if (k < 91) world.faults.verifierRejects = !world.faults.verifierRejects;
        else if (k < 92) world.faults.verifierFlaky = world.faults.verifierFlaky > 0 ? 0 : 0.3;
        else if (k < 95) world.operatorWrite(s);
        else if (k < 96) world.operatorDelete(s);
        else if (k < 97) world.maxVersionsOne(s);
        else if (k < 100) world.heartbeats();
        else if (k < 102) world.foreignLedger(a);
        else world.loseWrites(s);
    }

    /** The replay of one seed, event by event, for a person reading a failure. */
    static String replay(long seed, int events) {
        Result res = run(seed, events, true);
        return String.join("\n", res.trace()) + "\n" + (res.violations().isEmpty() ? "no violation"
                : "VIOLATIONS:\n  " + String.join("\n  ", res.violations()));
    }

    static Outcome none(String secretId) {
        return new Outcome.Skipped(secretId, "agent down");
    }
}
