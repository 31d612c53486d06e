package io.keyward.rotation;

import io.keyward.policy.Policy;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;

/**
 * The rotation protocol for one agent: CLAIMED, STAGED, APPLIED, VERIFIED, PROMOTED, DELIVERED,
 * RETIRED, each phase journaled in the store with check-and-set before the next begins, so that
 * any agent can resume a rotation after a crash. {@link Start} decides whether one begins,
 * {@link Decision} what comes next; {@link Run} carries it out. Before PROMOTED a failure rolls
 * back; after it, the rotation only goes forward, and the old value is retired only when every
 * live member of the fleet has acknowledged the new one on all its targets and the grace is over.
 */
public final class Rotator {

    /** Where the journal lives, who this agent is, how long a claim holds, when a silent member stops counting. */
    public record Settings(SecretPath state, String agentId, Duration lease, Duration memberTimeout) {
        public static final Duration MEMBER_TIMEOUT = Duration.ofMinutes(15);

        public Settings {
            Objects.requireNonNull(state, "state");
            Objects.requireNonNull(agentId, "agentId");
            if (lease.isNegative() || lease.isZero()) throw new IllegalArgumentException("lease must be positive");
            if (memberTimeout.isNegative() || memberTimeout.isZero()) {
                throw new IllegalArgumentException("member timeout must be positive");
            }
        }

        public Settings(SecretPath state, String agentId, Duration lease) {
            this(state, agentId, lease, MEMBER_TIMEOUT);
        }
    }

    private final Core core;
    private volatile boolean stopping;

    private Rotator(Builder b) {
        Journal journal = new Journal(b.store, b.settings.state(), b.audit);
        this.core = new Core(b.store, journal, new LiveMarks(b.store), b.audit, b.fingerprints, b.clock, b.sleeper,
                b.random, b.settings, Guarded.listener(b.listener), Guarded.notifier(b.notifier, b.notices), b.fleet,
                b.ledger, () -> stopping, new ConcurrentHashMap<>(), b.ids,
                new Installation(b.store, b.settings.state(), b.ids));
    }

    public static Builder builder(SecretStore store, Settings settings) {
        return new Builder(store, settings);
    }

    /** Asks every rotation under way to stop after the phase it is in is journaled (a clean shutdown). */
    public void stop() {
        stopping = true;
    }

    public Settings settings() {
        return core.settings();
    }

    /**
     * Rotates the secret if it is due (or {@code force}); continues a rotation left in flight by
     * this agent or by one whose lease ran out, and delivers to this agent's targets one another
     * live agent drives. {@code emergency} retires the old value as soon as every target has the
     * new one, skipping the grace period.
     */
    public Outcome rotate(SecretBinding b, boolean force, boolean emergency, String trigger) {
        Optional<String> audit = core.auditBlocked(b.id());
        if (audit.isPresent()) return new Outcome.Unavailable(b.id(), audit.get());
        Optional<Journal.Journaled> current;
        try {
            current = journal(b.id());
        } catch (StoreException e) {
            return new Outcome.Unavailable(b.id(), "could not read the journal: " + e.getMessage());
        }
        try {
            if (current.isPresent() && current.get().entry().active()) {
                return new Claims(core).drive(b, current.get(), emergency);
            }
            Optional<SecretMetadata> meta = core.store().metadata(b.livePath());
            Start.Verdict v = Start.decide(current.map(Journal.Journaled::entry), LiveMarks.live(meta), b.policy(),
                    b.source().kind(), notice(b), force, emergency, core.clock().instant());
            if (v instanceof Start.Verdict.NotDue n) {
                return new Outcome.NotDue(b.id(), n.due(), n.next(), LiveMarks.live(meta).written(),
                        current.map(Journal.Journaled::entry));
            }
            if (v instanceof Start.Verdict.OutsideWindow w) return new Outcome.OutsideWindow(b.id(), w.opens());
            if (v instanceof Start.Verdict.BackOff o) {
                return new Outcome.BackingOff(b.id(), o.attempts(), o.next(), o.lastError());
            }
            if (v instanceof Start.Verdict.AnnounceDue d) return new Announcements(core).due(b, meta, d, emergency);
            if (!emergency) {
                Optional<Outcome> differs = new Announcements(core).policyDiffers(b);
                if (differs.isPresent()) return differs.get();
            }
            return new Claims(core).claim(b, current, meta, emergency ? "emergency" : trigger, emergency, null);
        } catch (StoreException e) {
            return new Outcome.Unavailable(b.id(), "could not start: " + e.getMessage());
        }
    }

    /**
     * Starts a rotation of a manually issued key with the new value a person handed over (never
     * echoed, never logged). It is staged, verified, promoted and delivered like any other; the old
     * key is then reported revocable.
     */
    public Outcome submit(SecretBinding b, String value, boolean emergency) {
        String id = b.id();
        if (value == null || value.isBlank()) return new Outcome.Skipped(id, "the submitted key is empty");
        Optional<String> audit = core.auditBlocked(id);
        if (audit.isPresent()) return new Outcome.Unavailable(id, audit.get());
        try {
            Optional<Journal.Journaled> current = journal(id);
            if (current.isPresent() && current.get().entry().active()) {
                return new Outcome.Skipped(id, "rotation " + current.get().entry().rotationId() + " is in flight ("
                        + current.get().entry().phase().word() + "); finish it first (keyward resume)");
            }
            Optional<VersionedSecret> live;
            try {
                live = core.store().read(b.livePath());
            } catch (VersionGoneException gone) {
                live = Optional.empty();
            }
            if (live.isPresent() && live.get().data().string(b.field()).filter(value::equals).isPresent()) {
                return new Outcome.Skipped(id, "the submitted key is the one already live (v" + live.get().version() + ")");
            }
            if (b.urgent()) {
                Optional<Outcome> refused = refusedByIssuer(b, value);
                if (refused.isPresent()) return refused.get();
            }
            return new Claims(core).claim(b, current, core.store().metadata(b.livePath()), emergency ? "emergency" : "submit",
                    emergency, value);
        } catch (StoreException e) {
            return new Outcome.Unavailable(id, "could not start: " + e.getMessage());
        }
    }

    /** A single key is tried at DocBits before anything is stored: the old one is dead, a refused new one helps no one. */
    private static Optional<Outcome> refusedByIssuer(SecretBinding b, String value) {
        try {
            if (!((KeySource.Manual) b.source()).keys().refuses(b.id(), value)) return Optional.empty();
            return Optional.of(new Outcome.Skipped(b.id(), "DocBits refuses the submitted key: nothing was stored;"
                    + " copy the whole key DocBits showed after Regenerate and submit it again"));
        } catch (java.io.IOException e) {
            return Optional.of(new Outcome.Unavailable(b.id(), "could not ask DocBits whether it takes the submitted key ("
                    + e.getMessage() + "); nothing was stored: submit it again"));
        }
    }

    /**
     * DocBits refused the live key of {@code version} (a probe saw it at {@code at}): noted in the
     * live path's marks, once per version, so that the rotation bringing the new key can tell how
     * long the consumers had none that worked, whichever member delivers it.
     */
    public void keyRefused(SecretBinding b, int version, Instant at) throws StoreException {
        core.marks().refusedSince(b.livePath(), version, at);
    }

    /** DocBits takes the live key of {@code version} again: a refusal noted for it is dropped. */
    public void keyAccepted(SecretBinding b, int version) throws StoreException {
        core.marks().acceptedAgain(b.livePath(), version);
    }

    /**
     * Delivers the live version to this agent's targets if they lack it, whoever wrote it: one read
     * when they have it. A version someone else wrote that must be verified enters the protocol at
     * VERIFY. A deleted or destroyed version is never delivered; it raises an alert once.
     */
    public Outcome sync(SecretBinding b) {
        return sync(b, false);
    }

    /** As {@link #sync(SecretBinding)}; {@code force} writes every target of this agent again. */
    public Outcome sync(SecretBinding b, boolean force) {
        Optional<String> audit = core.auditBlocked(b.id());
        if (audit.isPresent()) return new Outcome.Unavailable(b.id(), audit.get());
        try {
            return new Sync(core).sync(b, force);
        } catch (StoreException e) {
            return new Outcome.Unavailable(b.id(), "could not sync: " + e.getMessage());
        }
    }

    /** Finishes or rolls back the rotation in flight, if any (after a crash, or after a wait). */
    public Outcome resume(SecretBinding b) {
        Optional<String> audit = core.auditBlocked(b.id());
        if (audit.isPresent()) return new Outcome.Unavailable(b.id(), audit.get());
        try {
            Optional<Journal.Journaled> current = journal(b.id());
            if (current.isEmpty() || !current.get().entry().active()) return new Outcome.NothingInFlight(b.id());
            return new Claims(core).drive(b, current.get(), false);
        } catch (StoreException e) {
            return new Outcome.Unavailable(b.id(), "could not read the journal: " + e.getMessage());
        }
    }

    /**
     * A person revoked the old key of a manual rotation in the issuer's settings: closes the
     * rotation. Refused while any live member's target still lacks the new key.
     */
    public Outcome confirmRevoked(SecretBinding b) {
        return new Announcements(core).confirmRevoked(b);
    }

    /** This Vault's installation id (written once by the first agent), which this agent's ledger entries name. */
    public String installation() throws StoreException {
        return core.installation().id();
    }

    /** The secret's journal, if it has one. */
    public Optional<Journal.Journaled> journal(String secretId) throws StoreException {
        return core.journal().read(secretId);
    }

    public SecretPath pendingPath(String secretId) {
        return core.journal().pendingPath(secretId);
    }

    /** Secrets with a rotation marked in flight (some may have ended since; {@link #resume} tells). */
    public List<String> inFlight() throws StoreException {
        return core.journal().inFlight();
    }

    /** Drops the in-flight marker of a secret whose journal shows nothing in flight. */
    public void forgetInFlight(String secretId) {
        core.journal().forgetInFlight(secretId);
    }

    /** Since when DocBits refuses the live version's key, if a live-key probe saw it (single and several keys). */
    public Optional<Instant> liveRefusedSince(SecretBinding b) throws StoreException {
        return core.store().metadata(b.livePath())
                .flatMap(m -> LiveMarks.refusedSince(m.customMetadata(), m.currentVersion()));
    }

    /** When the live value was last written (by keyward or anyone), or empty if it does not exist. */
    public Optional<Instant> lastRotated(SecretBinding b) throws StoreException {
        return LiveMarks.live(core.store().metadata(b.livePath())).written();
    }

    /** When the secret is due by its schedule or its expiry (window and jitter aside); now if it does not exist yet. */
    public Instant dueAt(SecretBinding b) throws StoreException {
        return Start.dueAt(LiveMarks.live(core.store().metadata(b.livePath())), b.policy(), core.clock().instant());
    }

    /** After rolled-back attempts: their number and when the next one may start (empty when none failed). */
    public static Optional<Instant> nextAttempt(JournalEntry last, Policy.SecretPolicy p) {
        return Start.nextAttempt(last.history(), p.retryCap(), p.schedule().window());
    }

    private static Duration notice(SecretBinding b) {
        return b.source() instanceof KeySource.Manual m ? m.keys().notice() : Duration.ZERO;
    }

    /** Everything a rotator is made of; what is not set has a harmless default. */
    public static final class Builder {
        private final SecretStore store;
        private final Settings settings;
        private AuditLog audit = AuditLog.none();
        private Fingerprinter fingerprints;
        private Clock clock = Clock.systemUTC();
        private Sleeper sleeper = Sleeper.system();
        private DoubleSupplier random = () -> ThreadLocalRandom.current().nextDouble();
        private Plugins.PhaseListener listener = Plugins.PhaseListener.none();
        private Plugins.Notifier notifier = Plugins.Notifier.none();
        private Executor notices = Runnable::run;
        private Fleet fleet = Fleet.alone();
        private Ledger ledger = Ledger.inMemory();
        private java.util.function.Supplier<String> ids = () -> java.util.UUID.randomUUID().toString();

        private Builder(SecretStore store, Settings settings) {
            this.store = Objects.requireNonNull(store, "store");
            this.settings = Objects.requireNonNull(settings, "settings");
        }

        public Builder audit(AuditLog audit, Fingerprinter fingerprints) {
            this.audit = audit;
            this.fingerprints = fingerprints;
            return this;
        }

        public Builder clock(Clock clock) {
            this.clock = clock;
            return this;
        }

        /** How retries within a step wait, and the randomness of their jitter. */
        public Builder waits(Sleeper sleeper, DoubleSupplier random) {
            this.sleeper = sleeper;
            this.random = random;
            return this;
        }

        public Builder listener(Plugins.PhaseListener listener) {
            this.listener = listener;
            return this;
        }

        /** Where announcements go, and the executor that sends them (never the rotation's own thread in a service). */
        public Builder notifier(Plugins.Notifier notifier, Executor sender) {
            this.notifier = notifier;
            this.notices = sender;
            return this;
        }

        public Builder fleet(Fleet fleet, Ledger ledger) {
            this.fleet = fleet;
            this.ledger = ledger;
            return this;
        }

        /** Where rotation ids come from (random UUIDs; a simulation passes seeded ones to replay exactly). */
        public Builder ids(java.util.function.Supplier<String> ids) {
            this.ids = ids;
            return this;
        }

        public Rotator build() {
            if (fingerprints == null) {
                byte[] key = new byte[32];
                new SecureRandom().nextBytes(key);
                fingerprints = new Fingerprinter(key);
            }
            return new Rotator(this);
        }
    }
}
