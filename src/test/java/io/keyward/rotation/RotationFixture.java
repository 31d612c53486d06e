package io.keyward.rotation;

import io.keyward.testing.MutableClock;
import io.keyward.audit.JsonAuditLog;
import io.keyward.policy.Policy;
import io.keyward.testing.TestDirs;
import io.keyward.testing.TestVault;
import io.keyward.vault.VaultClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** A Vault session, an audit file, a clock the test moves, and secrets bound to in-memory plug-ins. */
final class RotationFixture implements AutoCloseable {

    static final Fingerprinter FINGERPRINTS = new Fingerprinter("rotation-test-key-0123456789".getBytes());
    private static final JsonMapper JSON = JsonMapper.builder().build();

    final MutableClock clock = new MutableClock(Instant.now());
    private final TestVault vault;
    private final VaultClient store;
    private final JsonAuditLog audit;
    private final SecretPath state;
    private final java.util.Map<String, Ledger> ledgers = new java.util.concurrent.ConcurrentHashMap<>();

    private RotationFixture(TestVault vault, VaultClient store, JsonAuditLog audit) {
        this.vault = vault;
        this.store = store;
        this.audit = audit;
        this.state = vault.uniquePath("keyward");
    }

    static RotationFixture open(TestVault vault) throws Exception {
        JsonAuditLog audit = JsonAuditLog.open(TestDirs.fresh("rotation").resolve("audit.jsonl"), "test", Clock.systemUTC());
        VaultClient store = VaultClient.connect(vault.rootSettings(), audit, FINGERPRINTS, Clock.systemUTC());
        return new RotationFixture(vault, store, audit);
    }

    SecretStore store() {
        return store;
    }

    Duration lease() {
        return Duration.ofMinutes(1);
    }

    Rotator rotator(String agent) {
        return rotator(agent, Plugins.PhaseListener.none());
    }

    Rotator rotator(String agent, Plugins.PhaseListener listener) {
        return rotator(agent, listener, Plugins.Notifier.none());
    }

    Rotator rotator(String agent, Plugins.PhaseListener listener, Plugins.Notifier notifier) {
        return rotator(agent, FINGERPRINTS, store, listener, notifier);
    }

    /**
     * A rotator for one agent: its own audit key, the store it talks through, and a ledger that
     * outlives the rotator (as the agent's state folder does); the fleet is the real membership
     * records in this fixture's state path.
     */
    Rotator rotator(String agent, Fingerprinter fingerprints, SecretStore through, Plugins.PhaseListener listener,
                    Plugins.Notifier notifier) {
        return Rotator.builder(through, new Rotator.Settings(state, agent, lease(), memberTimeout()))
                .audit(audit, fingerprints).clock(clock).waits(d -> { }, () -> 0.5).listener(listener)
                .notifier(notifier, Runnable::run)
                .fleet(members(agent), ledgers.computeIfAbsent(agent, a -> Ledger.inMemory()))
                .build();
    }

    /** A rotator for one agent that talks through its own store session and audits into {@code audit}. */
    Rotator rotator(String agent, SecretStore through, AuditLog audit, Plugins.PhaseListener listener) {
        return Rotator.builder(through, new Rotator.Settings(state, agent, lease(), memberTimeout()))
                .audit(audit, FINGERPRINTS).clock(clock).waits(d -> { }, () -> 0.5).listener(listener)
                .fleet(members(agent), ledgers.computeIfAbsent(agent, a -> Ledger.inMemory()))
                .build();
    }

    /** A Vault session with the root token through another address (a fault proxy), auditing into {@code audit}. */
    VaultClient session(java.net.URI address, AuditLog audit, Duration requestTimeout) throws Exception {
        return VaultClient.connect(io.keyward.vault.VaultSettings.of(address, new io.keyward.vault.VaultAuth.Token(
                        Optional.of(vault.rootToken()), Optional.empty()))
                        .withTimeouts(Duration.ofSeconds(1), requestTimeout)
                        .withRetry(new Retrier.Backoff(3, Duration.ofMillis(100), Duration.ofMillis(400))),
                audit, FINGERPRINTS, Clock.systemUTC());
    }

    /** A real file target (mode 0600) for the {@code password} field of {@link #randomSecret}. */
    Plugins.Target fileTarget(String id, java.nio.file.Path file) {
        return new io.keyward.target.Targets(io.keyward.target.Targets.defaultHttpClient(), store, FINGERPRINTS, clock,
                d -> { }, () -> 0.5, Policy.Restarts.DEFAULT)
                .of(Policy.TargetSpec.File.raw(id, file, "password",
                        java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")), List.of("password"));
    }

    TestVault vault() {
        return vault;
    }

    /** The fleet's membership records of this fixture, as agent {@code agent} sees them. */
    io.keyward.fleet.Members members(String agent) {
        return new io.keyward.fleet.Members(store, state, clock, Duration.ZERO,
                new io.keyward.fleet.Members.Identity(agent, agent + "-1", "host-" + agent, 1, "test"));
    }

    /** Registers an agent as a member serving the secret with the given targets. */
    void register(String agent, Secret s, SecretBinding b) throws Exception {
        members(agent).register(java.util.Map.of(s.id(), new io.keyward.fleet.Members.Served(b.targetIds(), b.shared())));
    }

    Duration memberTimeout() {
        return Duration.ofMinutes(15);
    }

    SecretPath state() {
        return state;
    }

    /** A DocBits-like key minted by an in-memory issuer, delivered to one in-memory target. */
    Secret issuedSecret(Duration grace) throws Exception {
        String id = "s-" + UUID.randomUUID().toString().substring(0, 8);
        SecretPath path = vault.uniquePath(id);
        Policy p = Policy.parse("test.yaml", String.join("\n",
                "issuers:",
                "  mem: { type: command, issue: [unused], revoke: [unused] }",
                "secrets:",
                "  - id: " + id,
                "    path: " + path.path(),
                "    fields: [api_key]",
                "    generator: { type: issuer, issuer: mem }",
                "    schedule: { every: 30d }",
                "    grace: " + grace.toSeconds() + "s",
                "    attempts: 2",
                "    backoff: { initial: 0s, max: 1s }",
                ""));
        Fakes.Issuer issuer = new Fakes.Issuer();
        Fakes.Target target = new Fakes.Target("t1", "api_key");
        issuer.consumers.add(target);
        return new Secret(id, new SecretBinding(p.secrets().get(0), new KeySource.Issued(issuer), List.of(),
                List.of(target)), issuer, target);
    }

    /** A random password with no issuer, delivered to one in-memory target. */
    Secret randomSecret(String every) throws Exception {
        String id = "r-" + UUID.randomUUID().toString().substring(0, 8);
        SecretPath path = vault.uniquePath(id);
        Policy p = Policy.parse("test.yaml", String.join("\n",
                "secrets:",
                "  - id: " + id,
                "    path: " + path.path(),
                "    fields: [password]",
                "    generator: { type: random, length: 24 }",
                "    schedule: { every: " + every + " }",
                "    grace: 0s",
                ""));
        Fakes.Target target = new Fakes.Target("t1", "password");
        Policy.SecretPolicy sp = p.secrets().get(0);
        Plugins.Generator g = new io.keyward.generate.Generators(new java.security.SecureRandom(), java.util.Map.of()).generator(sp).orElseThrow();
        Plugins.Generator tracked = () -> io.keyward.testing.Leaks.track(g.generate());
        return new Secret(id, new SecretBinding(sp, new KeySource.Generated(tracked, Optional.empty()), List.of(),
                List.of(target)), null, target);
    }

    /** The live value of the secret's generated field. */
    Optional<String> live(Secret s) throws Exception {
        return store.read(s.binding.livePath()).flatMap(v -> v.data().string(s.binding.field()));
    }

    List<JsonNode> auditLines() throws Exception {
        return Files.readAllLines(audit.file(), StandardCharsets.UTF_8).stream().map(JSON::readTree).toList();
    }

    String auditText() throws Exception {
        return Files.readString(audit.file(), StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        store.close();
        audit.close();
    }

    /** A bound secret with its fakes. */
    record Secret(String id, SecretBinding binding, Fakes.Issuer issuer, Fakes.Target target) {

        /** Rotates now and, if the rotation waits for its grace, moves the clock past it and finishes. */
        Optional<String> rotateAndFinish(RotationFixture f) throws Exception {
            Outcome o = f.rotator("a").rotate(binding, true, false, "manual");
            if (o instanceof Outcome.Waiting w && w.phase() == Phase.DELIVERED) {
                f.clock.advance(Duration.between(f.clock.instant(), w.until()).plusSeconds(1));
                o = f.rotator("a").resume(binding);
            }
            if (!(o instanceof Outcome.Completed)) throw new AssertionError("rotation did not complete: " + o.describe());
            return f.live(this);
        }

        Secret withVerifier(Plugins.Verifier v) {
            return new Secret(id, new SecretBinding(binding.policy(), binding.source(), List.of(v), binding.targets()),
                    issuer, target);
        }

        /** The same secret as served by another agent, with targets of its own. */
        SecretBinding on(Plugins.Target... targets) {
            return new SecretBinding(binding.policy(), binding.source(), binding.verifiers(), List.of(targets));
        }
    }
}
