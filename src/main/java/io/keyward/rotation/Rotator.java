package io.keyward.rotation;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.UUID;
import java.util.function.DoubleSupplier;

/**
 * Runs the rotation protocol for one secret at a time: CLAIMED, STAGED, APPLIED, VERIFIED,
 * PROMOTED, DELIVERED, RETIRED. Each phase is journaled in the store with check-and-set before the
 * next begins, so any agent can resume a rotation after a crash. Before PROMOTED a failure rolls
 * back (the new value is discarded, and revoked where it was issued); after it, the rotation only
 * goes forward, and the old value is retired only when every target has acknowledged the new one
 * and the grace period is over. No I/O here but through {@link SecretStore} and {@link Plugins}.
 */
public final class Rotator {

    /** Where the journal lives, who this agent is, and how long a claim holds. */
    public record Settings(SecretPath state, String agentId, Duration lease) {
        public Settings {
            if (lease.isNegative() || lease.isZero()) throw new IllegalArgumentException("lease must be positive");
        }
    }

    /** A journal entry with the store version it was read at. */
    public record Journaled(JournalEntry entry, int version) {}

    private final SecretStore store;
    private final AuditLog audit;
    private final Fingerprinter fingerprints;
    private final Clock clock;
    private final Sleeper sleeper;
    private final DoubleSupplier random;
    private final Settings settings;
    private final Plugins.PhaseListener listener;

    public Rotator(SecretStore store, AuditLog audit, Fingerprinter fingerprints, Clock clock, Sleeper sleeper,
                   DoubleSupplier random, Settings settings, Plugins.PhaseListener listener) {
        this.store = store;
        this.audit = audit;
        this.fingerprints = fingerprints;
        this.clock = clock;
        this.sleeper = sleeper;
        this.random = random;
        this.settings = settings;
        this.listener = listener;
    }

    public SecretPath journalPath(String secretId) {
        return settings.state().child("journal").child(secretId);
    }

    public SecretPath pendingPath(String secretId) {
        return settings.state().child("pending").child(secretId);
    }

    /** The secret's journal, if it has one. */
    public Optional<Journaled> journal(String secretId) throws StoreException {
        Optional<VersionedSecret> v = store.read(journalPath(secretId));
        return v.map(x -> new Journaled(JournalEntry.fromData(secretId, x.data()), x.version()));
    }

    /** When the live value was last written (by keyward or anyone), or empty if it does not exist. */
    public Optional<Instant> lastRotated(SecretBinding b) throws StoreException {
        return lastRotated(store.metadata(b.livePath()));
    }

    private static Optional<Instant> lastRotated(Optional<SecretMetadata> m) {
        if (m.isEmpty() || m.get().currentVersion() == 0) return Optional.empty();
        return m.get().version(m.get().currentVersion()).map(SecretMetadata.VersionState::created);
    }

    /** When the secret is due by its schedule (window and jitter aside); now if it does not exist yet. */
    public Instant dueAt(SecretBinding b) throws StoreException {
        return dueAt(b, store.metadata(b.livePath()));
    }

    private Instant dueAt(SecretBinding b, Optional<SecretMetadata> meta) {
        Optional<Instant> last = lastRotated(meta);
        return last.isEmpty() ? clock.instant() : b.policy().schedule().due(last.get());
    }

    /**
     * Rotates the secret if it is due (or {@code force}); continues a rotation left in flight by
     * this agent or by one whose lease ran out. {@code emergency} retires the old value as soon as
     * every target has the new one, skipping the grace period.
     */
    public Outcome rotate(SecretBinding b, boolean force, boolean emergency, String trigger) {
        String id = b.id();
        try {
            Optional<Journaled> current = journal(id);
            if (current.isPresent() && current.get().entry().active()) {
                return takeOver(b, current.get(), emergency);
            }
            Optional<SecretMetadata> meta = store.metadata(b.livePath());
            if (!force && !emergency) {
                Instant due = dueAt(b, meta);
                if (clock.instant().isBefore(due)) return new Outcome.Skipped(id, "not due until " + due);
            }
            int live = meta.map(SecretMetadata::currentVersion).orElse(0);
            Instant now = clock.instant();
            JournalEntry start = JournalEntry.start(id, UUID.randomUUID().toString(), settings.agentId(), now,
                    now.plus(settings.lease()), emergency ? "emergency" : trigger, emergency, live,
                    current.map(c -> c.entry().history()).orElse(List.of()));
            int version;
            try {
                version = store.write(journalPath(id), start.toData(),
                        OptionalInt.of(current.map(Journaled::version).orElse(0)));
            } catch (CasConflictException e) {
                return new Outcome.Skipped(id, "another agent claimed the rotation first");
            }
            record(start, "rotation.claimed", AuditEvent.Outcome.OK, null);
            listener.entered(id, start.rotationId(), Phase.CLAIMED);
            return new Run(b, start, version).go();
        } catch (StoreException e) {
            return new Outcome.Stopped(id, "-", Phase.CLAIMED, e.getMessage());
        }
    }

    /** Finishes or rolls back the rotation in flight, if any (after a crash, or after a wait). */
    public Outcome resume(SecretBinding b) {
        try {
            Optional<Journaled> current = journal(b.id());
            if (current.isEmpty() || !current.get().entry().active()) {
                return new Outcome.Skipped(b.id(), "no rotation in flight");
            }
            return takeOver(b, current.get(), false);
        } catch (StoreException e) {
            return new Outcome.Stopped(b.id(), "-", Phase.CLAIMED, e.getMessage());
        }
    }

    private Outcome takeOver(SecretBinding b, Journaled current, boolean emergency) throws StoreException {
        JournalEntry e = current.entry();
        Instant now = clock.instant();
        boolean mine = settings.agentId().equals(e.owner());
        if (!mine && e.leaseUntil() != null && now.isBefore(e.leaseUntil())) {
            return new Outcome.Skipped(b.id(), "rotation " + e.rotationId() + " is in flight, owned by " + e.owner()
                    + " until " + e.leaseUntil());
        }
        JournalEntry mineNow = e.owned(settings.agentId(), now.plus(settings.lease()), now);
        if (emergency) mineNow = mineNow.asEmergency();
        int version;
        try {
            version = store.write(journalPath(b.id()), mineNow.toData(), OptionalInt.of(current.version()));
        } catch (CasConflictException c) {
            return new Outcome.Skipped(b.id(), "another agent took the rotation over first");
        }
        if (!mine) {
            record(mineNow, "rotation.taken_over", AuditEvent.Outcome.OK, "from " + e.owner());
        }
        return new Run(b, mineNow, version).go();
    }

    /** One rotation being driven forward; holds the journal version it last wrote. */
    private final class Run {
        private final SecretBinding b;
        private final Retrier retrier;
        private JournalEntry e;
        private int version;
        private SecretData pendingValue;

        Run(SecretBinding b, JournalEntry e, int version) {
            this.b = b;
            this.e = e;
            this.version = version;
            var r = b.policy().retry();
            this.retrier = new Retrier(new Retrier.Backoff(r.attempts(), r.initial(), r.max()), sleeper, random);
        }

        Outcome go() {
            try {
                while (true) {
                    if (e.phase().terminal()) {
                        return e.phase() == Phase.RETIRED
                                ? new Outcome.Completed(b.id(), e.rotationId(), e.liveVersionBefore(), e.newVersion())
                                : new Outcome.RolledBack(b.id(), e.rotationId(), String.valueOf(e.lastError()));
                    }
                    Optional<Outcome> stop = e.rollback() != null && !e.phase().promoted() ? rollback() : step();
                    if (stop.isPresent()) return stop.get();
                }
            } catch (CasConflictException lost) {
                return new Outcome.Stopped(b.id(), e.rotationId(), e.phase(), "another agent changed the journal: "
                        + lost.getMessage());
            } catch (StoreException s) {
                return new Outcome.Stopped(b.id(), e.rotationId(), e.phase(), s.getMessage());
            }
        }

        private Optional<Outcome> step() throws StoreException {
            switch (e.phase()) {
                case CLAIMED -> stage();
                case STAGED -> apply();
                case APPLIED -> verify();
                case VERIFIED -> promote();
                case PROMOTED -> {
                    return deliver();
                }
                case DELIVERED -> {
                    return retire();
                }
                default -> throw new IllegalStateException("no step for " + e.phase());
            }
            return Optional.empty();
        }

        private void stage() throws StoreException {
            Optional<VersionedSecret> live = readLive();
            String value;
            try {
                value = b.issued()
                        ? retrier.call(() -> b.issuer().orElseThrow().issue(b.id(), e.rotationId()), Rotator::retryable)
                        : retrier.call(() -> b.generator().orElseThrow().generate(), Rotator::retryable);
            } catch (IOException failure) {
                fail("could not obtain a new value: " + failure.getMessage());
                return;
            }
            if (value == null || value.isEmpty()) {
                fail("the new value is empty");
                return;
            }
            Map<String, Object> fields = new LinkedHashMap<>(live.map(v -> v.data().fields()).orElse(Map.of()));
            fields.put(b.field(), value);
            SecretData data = SecretData.of(fields);
            int pending = store.write(pendingPath(b.id()), data, OptionalInt.empty());
            pendingValue = data;
            advance(e.staged(pending, fingerprints.of(data)).to(Phase.STAGED, clock.instant()));
        }

        private void apply() throws StoreException {
            if (!b.issued() && b.issuer().isPresent()) {
                String value = pending().string(b.field()).orElseThrow();
                try {
                    retrier.call(() -> {
                        b.issuer().get().accept(b.id(), value);
                        return null;
                    }, Rotator::retryable);
                } catch (IOException failure) {
                    fail("the issuer did not accept the new value: " + failure.getMessage());
                    return;
                }
            }
            advance(e.to(Phase.APPLIED, clock.instant()));
        }

        private void verify() throws StoreException {
            SecretData value = pending();
            for (Plugins.Verifier v : b.verifiers()) {
                try {
                    retrier.call(() -> {
                        v.verify(b.id(), value);
                        return null;
                    }, Rotator::retryable);
                } catch (IOException failure) {
                    fail("verification failed: " + failure.getMessage());
                    return;
                }
            }
            advance(e.to(Phase.VERIFIED, clock.instant()));
        }

        private void promote() throws StoreException {
            SecretData value = pending();
            int promoted;
            try {
                promoted = store.write(b.livePath(), value, OptionalInt.of(e.liveVersionBefore()));
            } catch (CasConflictException conflict) {
                Optional<VersionedSecret> live = readLive();
                if (live.isPresent() && fingerprints.of(live.get().data()).equals(e.newFingerprint())) {
                    promoted = live.get().version(); // our own write, made before a crash
                } else {
                    String who = live.map(v -> "version " + v.version()).orElse("a deletion");
                    record(e, "rotation.conflict", AuditEvent.Outcome.CONFLICT, "live value changed to " + who);
                    fail("the live value changed (" + who + ") while rotating: someone else rotated it");
                    return;
                }
            }
            Map<String, String> custom = new HashMap<>(store.metadata(b.livePath())
                    .map(SecretMetadata::customMetadata).orElse(Map.of()));
            custom.put("keyward-rotation", e.rotationId());
            custom.put("keyward-current", String.valueOf(promoted));
            custom.put("keyward-previous", String.valueOf(e.liveVersionBefore()));
            store.writeCustomMetadata(b.livePath(), custom);
            advance(e.promotedAs(promoted).to(Phase.PROMOTED, clock.instant()));
        }

        private Optional<Outcome> deliver() throws StoreException {
            SecretData value = store.read(b.livePath(), e.newVersion()).map(VersionedSecret::data)
                    .orElseThrow(() -> new StoreException("promoted version " + e.newVersion() + " of " + b.livePath()
                            + " is missing"));
            List<String> failures = new ArrayList<>();
            for (Plugins.Target t : b.targets()) {
                Integer acked = e.acks().get(t.id());
                if (acked != null && acked == e.newVersion()) continue;
                try {
                    retrier.call(() -> {
                        t.deliver(b.id(), e.newVersion(), value);
                        return null;
                    }, Rotator::retryable);
                    save(e.acked(t.id(), e.newVersion(), clock.instant()));
                    record(e, "rotation.target", AuditEvent.Outcome.OK, "target " + t.id());
                } catch (IOException failure) {
                    failures.add(t.id() + ": " + failure.getMessage());
                    record(e, "rotation.target", AuditEvent.Outcome.FAILED, "target " + t.id() + ": " + failure.getMessage());
                }
            }
            Instant now = clock.instant();
            if (!failures.isEmpty()) {
                Instant retry = now.plus(b.policy().retry().max());
                save(e.failed("delivery failing: " + String.join("; ", failures), retry, now));
                return Optional.of(new Outcome.Waiting(b.id(), e.rotationId(), Phase.PROMOTED, retry,
                        "delivery failing, old value kept valid: " + String.join("; ", failures)));
            }
            Duration grace = e.emergency() ? Duration.ZERO : b.policy().grace();
            advance(e.to(Phase.DELIVERED, now).retiringAfter(now.plus(grace)));
            return Optional.empty();
        }

        private Optional<Outcome> retire() throws StoreException {
            Instant now = clock.instant();
            if (e.retireAfter() != null && now.isBefore(e.retireAfter())) {
                return Optional.of(new Outcome.Waiting(b.id(), e.rotationId(), Phase.DELIVERED, e.retireAfter(),
                        "old version " + e.liveVersionBefore() + " stays valid during the grace period"));
            }
            String note = null;
            if (b.issuer().isPresent() && e.liveVersionBefore() > 0) {
                Optional<String> old;
                try {
                    old = store.read(b.livePath(), e.liveVersionBefore()).flatMap(v -> v.data().string(b.field()));
                } catch (VersionGoneException gone) {
                    old = Optional.empty();
                    note = "old version " + e.liveVersionBefore() + " was deleted in Vault: revoke it at the issuer by hand";
                }
                if (old.isPresent()) {
                    String oldValue = old.get();
                    try {
                        retrier.call(() -> {
                            b.issuer().get().revoke(b.id(), oldValue);
                            return null;
                        }, Rotator::retryable);
                    } catch (IOException failure) {
                        Instant retry = now.plus(b.policy().retry().max());
                        save(e.failed("revoking the old value failed: " + failure.getMessage(), retry, now));
                        record(e, "rotation.retired", AuditEvent.Outcome.FAILED, failure.getMessage());
                        return Optional.of(new Outcome.Waiting(b.id(), e.rotationId(), Phase.DELIVERED, retry,
                                "revoking the old value failed: " + failure.getMessage()));
                    }
                }
            }
            store.deleteAll(pendingPath(b.id()));
            JournalEntry done = e.finished(Phase.RETIRED, e.emergency() ? "emergency" : "completed", now);
            if (note != null) done = done.failed(note, null, now);
            advance(done);
            return Optional.empty();
        }

        private Optional<Outcome> rollback() throws StoreException {
            if (b.issuer().isPresent() && e.pendingVersion() > 0 && (b.issued() || e.phase() != Phase.CLAIMED)) {
                Optional<String> fresh = pendingIfAny().flatMap(d -> d.string(b.field()));
                if (fresh.isPresent()) {
                    try {
                        retrier.call(() -> {
                            b.issuer().get().revoke(b.id(), fresh.get());
                            return null;
                        }, Rotator::retryable);
                    } catch (IOException failure) {
                        Instant now = clock.instant();
                        Instant retry = now.plus(b.policy().retry().max());
                        save(e.failed("rolling back: revoking the new value failed: " + failure.getMessage(), retry, now)
                                .rollingBack(e.rollback(), now));
                        return Optional.of(new Outcome.Waiting(b.id(), e.rotationId(), e.phase(), retry,
                                "rolling back, revoking the discarded value failed: " + failure.getMessage()));
                    }
                }
            }
            store.deleteAll(pendingPath(b.id()));
            String reason = e.rollback();
            JournalEntry done = e.finished(Phase.ROLLED_BACK, "rolled_back", clock.instant());
            advance(done);
            return Optional.of(new Outcome.RolledBack(b.id(), e.rotationId(), reason));
        }

        /** Journals a failure before PROMOTED: the next turn of the loop rolls back. */
        private void fail(String reason) throws StoreException {
            JournalEntry next = e.rollingBack(reason, clock.instant());
            save(next);
            record(e, "rotation.failed", AuditEvent.Outcome.FAILED, reason);
        }

        private SecretData pending() throws StoreException {
            return pendingIfAny().orElseThrow(() -> new StoreException("pending value v" + e.pendingVersion()
                    + " of " + b.id() + " is missing at " + pendingPath(b.id())));
        }

        private Optional<SecretData> pendingIfAny() throws StoreException {
            if (pendingValue == null && e.pendingVersion() > 0) {
                try {
                    pendingValue = store.read(pendingPath(b.id()), e.pendingVersion()).map(VersionedSecret::data).orElse(null);
                } catch (VersionGoneException gone) {
                    pendingValue = null;
                }
            }
            return Optional.ofNullable(pendingValue);
        }

        private Optional<VersionedSecret> readLive() throws StoreException {
            try {
                return store.read(b.livePath());
            } catch (VersionGoneException gone) {
                return Optional.empty();
            }
        }

        private void advance(JournalEntry next) throws StoreException {
            Instant now = clock.instant();
            save(next.owned(settings.agentId(), next.phase().terminal() ? now : now.plus(settings.lease()), now));
            record(e, "rotation." + e.phase().word(), e.phase() == Phase.ROLLED_BACK ? AuditEvent.Outcome.FAILED
                    : AuditEvent.Outcome.OK, e.phase() == Phase.ROLLED_BACK ? e.rollback() : null);
            listener.entered(b.id(), e.rotationId(), e.phase());
        }

        private void save(JournalEntry next) throws StoreException {
            version = store.write(journalPath(b.id()), next.toData(), OptionalInt.of(version));
            e = next;
        }
    }

    private void record(JournalEntry e, String event, AuditEvent.Outcome outcome, String detail) {
        audit.record(AuditEvent.of(event).path(e.secretId()).version(e.newVersion() > 0 ? e.newVersion() : null)
                .outcome(outcome).fingerprint(e.newFingerprint())
                .attribute("rotation_id", e.rotationId()).attribute("phase", e.phase().word())
                .attribute("trigger", e.trigger()).attribute("detail", detail).build());
    }

    private static boolean retryable(IOException e) {
        return !(e instanceof Plugins.Rejected) && !(e instanceof CasConflictException);
    }
}
