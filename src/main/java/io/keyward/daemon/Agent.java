package io.keyward.daemon;

import io.keyward.audit.AuditKey;
import io.keyward.audit.JsonAuditLog;
import io.keyward.docbits.DocBits;
import io.keyward.generate.Generators;
import io.keyward.policy.Policy;
import io.keyward.fleet.FileLedger;
import io.keyward.fleet.Members;
import io.keyward.rotation.AuditLog;
import io.keyward.rotation.KeySource;
import io.keyward.rotation.Ledger;
import io.keyward.rotation.Fingerprinter;
import io.keyward.rotation.Plugins;
import io.keyward.rotation.Rotator;
import io.keyward.rotation.SecretBinding;
import io.keyward.rotation.Sleeper;
import io.keyward.rotation.StoreException;
import io.keyward.target.Targets;
import io.keyward.vault.VaultClient;
import java.io.IOException;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BiFunction;
import java.util.function.UnaryOperator;

/**
 * A running keyward: audit log, Vault session, and the rotator with every secret of the policy
 * bound to its generator, issuer, verifiers and targets. Commands and the daemon share it.
 */
public final class Agent implements AutoCloseable {

    private static final org.slf4j.Logger NOTICES = org.slf4j.LoggerFactory.getLogger("keyward.notice");

    /**
     * Where the daemon looks in: a phase listener, a tee on the audit log, wrappers around each
     * target and verifier, and a copy of every announcement. {@link #none()} for commands.
     */
    public record Hooks(Plugins.PhaseListener phases, UnaryOperator<AuditLog> audit,
                        BiFunction<String, Plugins.Target, Plugins.Target> targets,
                        BiFunction<String, Plugins.Verifier, Plugins.Verifier> verifiers, Plugins.Notifier notices) {

        public static Hooks none() {
            return of(Plugins.PhaseListener.none());
        }

        public static Hooks of(Plugins.PhaseListener phases) {
            return new Hooks(phases, a -> a, (s, t) -> t, (s, v) -> v, Plugins.Notifier.none());
        }
    }

    /** One policy with everything bound to it; replaced as a whole on reload. */
    private record Bound(Policy policy, Map<String, SecretBinding> bindings, Plugins.Notifier notifier) {}

    private final AgentConfig config;
    private final JsonAuditLog audit;
    private final VaultClient vault;
    private final Rotator rotator;
    private final Fingerprinter fingerprints;
    private final Clock clock;
    private final Generators generators;
    private final DocBits docbits;
    private final Hooks hooks;
    private final ExecutorService notices;
    private final Members members;
    private final Ledger ledger;
    private volatile Bound bound;

    private Agent(AgentConfig config, JsonAuditLog audit, VaultClient vault, Fingerprinter fingerprints, Clock clock,
                  Generators generators, Hooks hooks, Ledger ledger) {
        this.config = config;
        this.audit = audit;
        this.vault = vault;
        this.fingerprints = fingerprints;
        this.clock = clock;
        this.generators = generators;
        this.docbits = new DocBits(DocBits.defaultHttpClient());
        this.hooks = hooks;
        this.ledger = ledger;
        this.members = new Members(vault, config.state(), clock, Members.Identity.of(config.agentId(), version()));
        // Announcements go out on their own thread: a slow webhook never holds up a rotation; past
        // 1,000 waiting, new ones are dropped (and logged) rather than piling up.
        this.notices = new java.util.concurrent.ThreadPoolExecutor(1, 1, 0, java.util.concurrent.TimeUnit.SECONDS,
                new java.util.concurrent.LinkedBlockingQueue<>(1000), r -> {
                    Thread t = new Thread(r, "keyward-notices");
                    t.setDaemon(true);
                    return t;
                });
        this.rotator = Rotator.builder(vault, new Rotator.Settings(config.state(), config.agentId(), config.lease(),
                        config.memberTimeout()))
                .audit(hooks.audit().apply(audit), fingerprints).clock(clock)
                .waits(Sleeper.system(), () -> ThreadLocalRandom.current().nextDouble())
                .listener(hooks.phases())
                .notifier(n -> bound.notifier().announce(n), notices)
                .fleet(members, ledger)
                .build();
    }

    /** Opens the audit log, logs in to Vault and binds the policy. */
    public static Agent start(AgentConfig config, Policy policy, Clock clock, Plugins.PhaseListener listener,
                              Map<String, String> env)
            throws IOException {
        return start(config, policy, clock, Hooks.of(listener), env);
    }

    /** As {@link #start(AgentConfig, Policy, Clock, Plugins.PhaseListener, Map)}, with the daemon's hooks. */
    public static Agent start(AgentConfig config, Policy policy, Clock clock, Hooks hooks, Map<String, String> env)
            throws IOException {
        return start(config, policy, clock, hooks, env, ledger(config));
    }

    /**
     * The ledger in this agent's own folder of the state folder ({@code ledger/<agent id>}): two
     * agents that share a state folder (two configurations on one host) never read each other's.
     */
    static Ledger ledger(AgentConfig config) {
        return FileLedger.open(ledgerFolder(config));
    }

    /** {@code <state.dir>/ledger/<agent id>}, the agent id with any character but letters, digits, '.', '_' and '-' as '_'. */
    public static java.nio.file.Path ledgerFolder(AgentConfig config) {
        String name = config.agentId().replaceAll("[^A-Za-z0-9._-]", "_");
        if (name.startsWith(".")) name = "_" + name;
        return config.stateDir().resolve("ledger").resolve(name);
    }

    /** As above, with the ledger the caller already opened (the service reads it before Vault answers). */
    static Agent start(AgentConfig config, Policy policy, Clock clock, Hooks hooks, Map<String, String> env, Ledger ledger)
            throws IOException {
        SecureRandom random = new SecureRandom();
        JsonAuditLog audit = JsonAuditLog.open(config.audit().file(), config.agentId(), clock, config.audit().rolling());
        byte[] key;
        try {
            key = config.audit().hmacKey().isPresent() ? sharedKey(config, hooks.audit().apply(audit), clock, random)
                    : AuditKey.loadOrCreate(config.audit().hmacKeyFile(), random);
        } catch (IOException | RuntimeException e) {
            audit.close();
            throw e;
        }
        Fingerprinter fingerprints = new Fingerprinter(key);
        VaultClient vault;
        try {
            vault = VaultClient.connect(config.vault(), hooks.audit().apply(audit), fingerprints, clock);
        } catch (IOException e) {
            audit.close();
            throw e;
        }
        Agent agent = new Agent(config, audit, vault, fingerprints, clock, new Generators(random, env), hooks, ledger);
        agent.reload(policy);
        return agent;
    }

    /**
     * The fleet's shared fingerprint key, read (or created) through a short session of its own:
     * the agent's own session fingerprints with the key, which it cannot have before.
     */
    private static byte[] sharedKey(AgentConfig config, AuditLog audit, Clock clock, SecureRandom random) throws IOException {
        byte[] throwaway = new byte[32];
        random.nextBytes(throwaway);
        try (VaultClient bootstrap = VaultClient.connect(config.vault(), audit, new Fingerprinter(throwaway), clock)) {
            return AuditKey.shared(bootstrap, config.audit().hmacKey().orElseThrow(), config.audit().hmacKeyField(), random);
        }
    }

    /**
     * Binds a new policy: fresh plug-ins (and restart budget) for every secret. Runs already under
     * way keep the binding they started with.
     */
    public Map<String, SecretBinding> reload(Policy policy) {
        Targets targets = new Targets(Targets.defaultHttpClient(), vault, fingerprints, clock, Sleeper.system(),
                () -> ThreadLocalRandom.current().nextDouble(), policy.restarts());
        Map<String, SecretBinding> bindings = bind(policy, generators, docbits, targets, vault, hooks);
        bound = new Bound(policy, bindings, notifier(policy, targets, hooks.notices()));
        return bindings;
    }

    /** Every announcement goes to the log; those the policy's notify section names also to its webhook. */
    static Plugins.Notifier notifier(Policy policy, Targets targets, Plugins.Notifier observer) {
        Optional<Plugins.Notifier> hook = policy.notifications().map(targets::notifier);
        return n -> {
            NOTICES.warn("{} {}{}: {}", n.word(), n.secretId(), n.version() > 0 ? " v" + n.version() : "", n.detail());
            observer.announce(n);
            hook.ifPresent(h -> h.announce(n));
        };
    }

    /** Binds every secret of a policy to its plug-ins. */
    static Map<String, SecretBinding> bind(Policy policy, Generators generators, DocBits docbits, Targets targetFactory,
                                           io.keyward.rotation.SecretStore store) {
        return bind(policy, generators, docbits, targetFactory, store, Hooks.none());
    }

    private static Map<String, SecretBinding> bind(Policy policy, Generators generators, DocBits docbits,
                                                   Targets targetFactory, io.keyward.rotation.SecretStore store,
                                                   Hooks hooks) {
        Map<String, KeySource> issuers = new LinkedHashMap<>();
        policy.issuers().forEach((name, spec) -> issuers.put(name, spec instanceof Policy.IssuerSpec.DocBits d
                ? docbits.source(d, store) : new KeySource.Issued(generators.issuer(spec))));
        Map<String, SecretBinding> out = new LinkedHashMap<>();
        Map<String, List<Plugins.Target>> shared = targetFactory.sharedFiles(policy);
        for (Policy.SecretPolicy s : policy.secrets()) {
            KeySource source = source(s, generators, issuers);
            boolean singleKey = source instanceof KeySource.Manual m && m.keys().singleKey();
            List<Plugins.Verifier> verifiers = new ArrayList<>();
            // A single key is delivered only if DocBits takes it: the old one is dead, a refused new one helps no one.
            if (singleKey) {
                verifiers.add(hooks.verifiers().apply(s.id(),
                        DocBits.issuerAccepts((KeySource.Manual) source, s.generator().field())));
            }
            s.verify().forEach(v -> verifiers.add(hooks.verifiers().apply(s.id(), v instanceof Policy.VerifySpec.DocBits d
                    ? docbits.verifier(d, s.generator().field()) : generators.verifier(v, s.generator().field()))));
            List<Plugins.Target> targets = new ArrayList<>();
            for (Policy.TargetSpec t : s.targets()) {
                targets.add(hooks.targets().apply(s.id(), t instanceof Policy.TargetSpec.DocBits d
                        ? targetFactory.checked(docbits.target(d, s.generator().field(), store), t)
                        : targetFactory.of(t, s.fields(), singleKey)));
            }
            for (Plugins.Target t : shared.getOrDefault(s.id(), List.of())) targets.add(hooks.targets().apply(s.id(), t));
            out.put(s.id(), SecretBinding.of(policy, s, source, verifiers, targets));
        }
        return out;
    }

    /** Where a secret's values come from: its issuer (minting, or a person), or its generator with an optional acceptor. */
    private static KeySource source(Policy.SecretPolicy s, Generators generators, Map<String, KeySource> issuers) {
        if (s.generator() instanceof Policy.GeneratorSpec.Issued i) return issuers.get(i.issuer());
        Optional<Plugins.Issuer> acceptor = s.issuer().map(name -> {
            if (issuers.get(name) instanceof KeySource.Issued issued) return issued.issuer();
            throw new IllegalArgumentException("secret " + s.id() + ": issuer " + name + " cannot accept generated values");
        });
        return new KeySource.Generated(generators.generator(s).orElseThrow(), acceptor);
    }

    /** The fleet's membership records in Vault, which this agent registers in. */
    public Members members() {
        return members;
    }

    /**
     * Registers this agent as a member for every secret it serves with targets of its own, so that
     * a rotation driven by another agent waits for this one's acknowledgements.
     */
    public void register() throws StoreException {
        members.register(serving());
    }

    /**
     * Registers this agent as the running service: refused (IllegalArgumentException, naming it)
     * while another process runs a service with the same agent id. Returns this agent's record as
     * it was before (empty for a new agent).
     */
    public Optional<Members.Record> registerService() throws StoreException {
        return members.start(serving(), config.fleet().heartbeat());
    }

    private Map<String, Members.Served> serving() {
        Map<String, Members.Served> serving = new LinkedHashMap<>();
        bound.bindings().forEach((id, b) -> serving.put(id, new Members.Served(b.targetIds(), b.shared())));
        return serving;
    }

    /** keyward's version, as its jar says (a development build says so). */
    public static String version() {
        try (java.io.InputStream in = Agent.class.getResourceAsStream("/keyward-version.properties")) {
            java.util.Properties p = new java.util.Properties();
            if (in != null) p.load(in);
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** Announces a notice as the rotations do: the log, the metrics and the policy's webhook. */
    public void announce(Plugins.Notice notice) {
        bound.notifier().announce(notice);
    }

    /** Tries live keys of a DocBits issuer against DocBits. */
    public java.util.function.Function<String, io.keyward.docbits.LiveKey.Probe> liveKeyProbe(Policy.IssuerSpec.DocBits spec) {
        return docbits.liveKeyProbe(spec);
    }

    public AgentConfig config() {
        return config;
    }

    public Policy policy() {
        return bound.policy();
    }

    public VaultClient vault() {
        return vault;
    }

    public Rotator rotator() {
        return rotator;
    }

    /** What this agent delivered to its own targets. */
    public Ledger ledger() {
        return ledger;
    }

    public Map<String, SecretBinding> bindings() {
        return bound.bindings();
    }

    /** The binding of a secret, or an error naming the ids that exist. */
    public SecretBinding binding(String id) {
        Bound now = bound;
        SecretBinding b = now.bindings().get(id);
        if (b == null) {
            throw new IllegalArgumentException("no secret '" + id + "' in " + now.policy().source() + "; known: "
                    + String.join(", ", now.bindings().keySet()));
        }
        return b;
    }

    @Override
    public void close() {
        notices.shutdown();
        try {
            notices.awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        vault.close();
        audit.close();
    }
}
