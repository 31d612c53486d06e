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
    private final Plugins.Notifier notifier;
    private volatile boolean stopping;

    /** Custom metadata keys on the live path: what keyward delivered, refused and announced. */
    static final String DELIVERED = "keyward-delivered";
    static final String REFUSED = "keyward-refused";
    static final String DUE_ANNOUNCED = "keyward-due-announced";
    /** Custom metadata an operator may set on the live path: when the key expires (ISO-8601 date or time). */
    public static final String EXPIRES_AT = "expires_at";
    /** How often a manual rotation waiting for the old key's revocation looks again. */
    static final Duration REVOCATION_CHECK = Duration.ofMinutes(5);
    /** How often a due manual key is looked at again while keyward waits for a person. */
    static final Duration MANUAL_RECHECK = Duration.ofHours(1);

    public Rotator(SecretStore store, AuditLog audit, Fingerprinter fingerprints, Clock clock, Sleeper sleeper,
                   DoubleSupplier random, Settings settings, Plugins.PhaseListener listener) {
        this(store, audit, fingerprints, clock, sleeper, random, settings, listener, Plugins.Notifier.none());
    }

    public Rotator(SecretStore store, AuditLog audit, Fingerprinter fingerprints, Clock clock, Sleeper sleeper,
                   DoubleSupplier random, Settings settings, Plugins.PhaseListener listener, Plugins.Notifier notifier) {
        this.store = store;
        this.audit = audit;
        this.fingerprints = fingerprints;
        this.clock = clock;
        this.sleeper = sleeper;
        this.random = random;
        this.settings = settings;
        this.listener = listener;
        this.notifier = notifier;
    }

    /**
     * Asks every rotation under way to stop after the phase it is in is journaled (for a clean
     * shutdown); calls made after this stop before their first step.
     */
    public void stop() {
        stopping = true;
    }

    public SecretPath journalPath(String secretId) {
        return settings.state().child("journal").child(secretId);
    }

    public SecretPath pendingPath(String secretId) {
        return settings.state().child("pending").child(secretId);
    }

    /**
     * The marker of a rotation in flight: written before the claim, deleted once the rotation has
     * ended, so that a starting agent finds what to recover with one LIST instead of reading
     * every journal.
     */
    public SecretPath inFlightPath(String secretId) {
        return settings.state().child("inflight").child(secretId);
    }

    /** Secrets with a rotation marked in flight (some may have ended since; {@link #resume} tells). */
    public List<String> inFlight() throws StoreException {
        return store.list(settings.state().child("inflight")).stream().filter(k -> !k.endsWith("/")).toList();
    }

    /** Drops the in-flight marker of a secret whose journal shows nothing in flight. */
    public void forgetInFlight(String secretId) {
        try {
            store.deleteAll(inFlightPath(secretId));
        } catch (StoreException e) {
            // a stale marker only costs one journal read at the next start
        }
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
        Instant due = last.isEmpty() ? clock.instant() : b.policy().schedule().due(last.get());
        Optional<Instant> expires = meta.flatMap(m -> expiry(m.customMetadata().get(EXPIRES_AT)));
        return expires.isPresent() && expires.get().isBefore(due) ? expires.get() : due;
    }

    /** When the key expires, from the operator's {@code expires_at} custom metadata (a date means its start, UTC). */
    static Optional<Instant> expiry(String text) {
        if (text == null || text.isBlank()) return Optional.empty();
        try {
            return Optional.of(Instant.parse(text.strip()));
        } catch (java.time.format.DateTimeParseException notInstant) {
            try {
                return Optional.of(java.time.LocalDate.parse(text.strip()).atStartOfDay(java.time.ZoneOffset.UTC).toInstant());
            } catch (java.time.format.DateTimeParseException notDate) {
                return Optional.empty();
            }
        }
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
            if (b.issued() && b.issuer().orElseThrow().manual()) {
                return announceDue(b, meta, force, emergency);
            }
            if (!force && !emergency) {
                Instant due = dueAt(b, meta);
                if (clock.instant().isBefore(due)) return new Outcome.Skipped(id, "not due until " + due);
            }
            return claim(b, current, meta, emergency ? "emergency" : trigger, emergency, null);
        } catch (StoreException e) {
            return new Outcome.Stopped(id, "-", Phase.CLAIMED, e.getMessage());
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
        try {
            Optional<Journaled> current = journal(id);
            if (current.isPresent() && current.get().entry().active()) {
                return new Outcome.Skipped(id, "rotation " + current.get().entry().rotationId() + " is in flight ("
                        + current.get().entry().phase().word() + "); finish it first (keyward resume " + id + ")");
            }
            Optional<VersionedSecret> live = readLive(b);
            if (live.isPresent() && live.get().data().string(b.field()).filter(value::equals).isPresent()) {
                return new Outcome.Skipped(id, "the submitted key is the one already live (v" + live.get().version() + ")");
            }
            return claim(b, current, store.metadata(b.livePath()), emergency ? "emergency" : "submit", emergency, value);
        } catch (StoreException e) {
            return new Outcome.Stopped(id, "-", Phase.CLAIMED, e.getMessage());
        }
    }

    /**
     * Delivers the live version if someone else wrote it in Vault (or it was never delivered): it
     * enters the protocol at VERIFY and goes to every target. A deleted or destroyed version is
     * never delivered; it raises an alert once.
     */
    public Outcome sync(SecretBinding b) {
        String id = b.id();
        try {
            Optional<VersionedSecret> live;
            try {
                live = store.read(b.livePath());
            } catch (VersionGoneException gone) {
                return syncThroughJournal(b);
            }
            if (live.isEmpty()) {
                Optional<Journaled> current = journal(id);
                if (current.isPresent() && current.get().entry().active()) return takeOver(b, current.get(), false);
                return new Outcome.Skipped(id, "no value in Vault yet");
            }
            int version = live.get().version();
            Map<String, String> custom = live.get().customMetadata();
            Optional<Outcome> done = handledBefore(id, version, custom);
            if (done.isPresent()) return done.get();
            int delivered = number(custom.get(DELIVERED));
            boolean manual = b.issuer().isPresent() && b.issuer().get().manual();
            if (!b.verifiers().isEmpty() || (manual && delivered > 0)) return syncThroughJournal(b);
            return deliverOnly(b, live.get(), Math.max(0, delivered));
        } catch (StoreException e) {
            return new Outcome.Stopped(id, "-", Phase.CLAIMED, e.getMessage());
        }
    }

    /** Skipped when the live version was delivered or refused already (by the marks in its custom metadata). */
    private static Optional<Outcome> handledBefore(String id, int version, Map<String, String> custom) {
        int delivered = number(custom.get(DELIVERED));
        if (delivered == version) return Optional.of(new Outcome.Skipped(id, "v" + version + " is delivered"));
        if (number(custom.get(REFUSED)) == version) {
            return Optional.of(new Outcome.Skipped(id, "v" + version + " was refused earlier; consumers keep v" + delivered));
        }
        return Optional.empty();
    }

    /** The full path: a claimed journal entry that starts at VERIFY. */
    private Outcome syncThroughJournal(SecretBinding b) throws StoreException {
        String id = b.id();
        Optional<Journaled> current = journal(id);
        if (current.isPresent() && current.get().entry().active()) {
            return takeOver(b, current.get(), false);
        }
        Optional<SecretMetadata> meta = store.metadata(b.livePath());
        if (meta.isEmpty() || meta.get().currentVersion() == 0) {
            return new Outcome.Skipped(id, "no value in Vault yet");
        }
        SecretMetadata m = meta.get();
        int live = m.currentVersion();
        Map<String, String> custom = m.customMetadata();
        Optional<Outcome> done = handledBefore(id, live, custom);
        if (done.isPresent()) return done.get();
        int delivered = number(custom.get(DELIVERED));
        Optional<SecretMetadata.VersionState> state = m.version(live);
        if (state.isPresent() && !state.get().readable()) {
            String why = "v" + live + " is " + (state.get().destroyed() ? "destroyed" : "deleted")
                    + " in Vault: not delivered; consumers keep v" + delivered;
            refuse(b, m, live, why, null);
            return new Outcome.Skipped(id, why);
        }
        return claim(b, current, meta, JournalEntry.VAULT_CHANGE, false, null);
    }

    /**
     * A version with nothing to verify and nothing to retire only needs delivering; one read
     * brought its value, version and custom metadata. After the delivery the journal is read: if a
     * rotation promoted a newer version meanwhile (another agent's), this delivery may have
     * overwritten it, so the full path runs and delivers the newest; a rotation not yet promoted
     * delivers its value after this one. Only then is the version recorded as delivered.
     */
    private Outcome deliverOnly(SecretBinding b, VersionedSecret live, int delivered) throws StoreException {
        String id = b.id();
        int version = live.version();
        if (live.data().string(b.field()).filter(v -> !v.isEmpty()).isEmpty()) return syncThroughJournal(b);
        String fingerprint = fingerprints.of(live.data());
        List<String> failures = new ArrayList<>();
        for (Plugins.Target t : b.targets()) {
            try {
                t.deliver(id, version, live.data());
                syncRecord(id, version, fingerprint, AuditEvent.Outcome.OK, "target " + t.id());
            } catch (IOException failure) {
                failures.add(t.id() + ": " + failure.getMessage());
                syncRecord(id, version, fingerprint, AuditEvent.Outcome.FAILED, "target " + t.id() + ": " + failure.getMessage());
            }
        }
        Optional<Journaled> journal = journal(id);
        if (journal.isPresent() && (journal.get().entry().active() || journal.get().entry().newVersion() > version)) {
            return syncThroughJournal(b);
        }
        Instant now = clock.instant();
        if (!failures.isEmpty()) {
            String why = "delivery failing: " + String.join("; ", failures);
            notifier.announce(new Plugins.Notice("degraded", id, null, version, why + "; retried at the next watch"));
            return new Outcome.Waiting(id, "-", Phase.PROMOTED, now.plus(b.policy().retry().max()), why);
        }
        setCustom(b.livePath(), live.customMetadata(), Map.of(DELIVERED, String.valueOf(version)));
        syncRecord(id, version, fingerprint, AuditEvent.Outcome.OK, "v" + version + " delivered to every target");
        return new Outcome.Completed(id, "-", delivered, version);
    }

    private void syncRecord(String id, int version, String fingerprint, AuditEvent.Outcome outcome, String detail) {
        audit.record(AuditEvent.of("sync.delivered").path(id).version(version).outcome(outcome).fingerprint(fingerprint)
                .attribute("trigger", JournalEntry.VAULT_CHANGE).attribute("detail", detail).build());
    }

    /**
     * A person revoked the old key of a manual rotation in the issuer's settings: closes the
     * rotation. Refused while any target still holds the old key.
     */
    public Outcome confirmRevoked(SecretBinding b) {
        String id = b.id();
        try {
            Optional<Journaled> current = journal(id);
            if (current.isEmpty() || !current.get().entry().active()) {
                return new Outcome.Skipped(id, "no rotation in flight: nothing waits for a revocation");
            }
            JournalEntry e = current.get().entry();
            if (e.phase() != Phase.DELIVERED) {
                List<String> missing = new ArrayList<>();
                for (Plugins.Target t : b.targets()) {
                    Integer acked = e.acks().get(t.id());
                    if (acked == null || acked != e.newVersion() || e.newVersion() == 0) missing.add(t.id());
                }
                return new Outcome.Skipped(id, "rotation " + e.rotationId() + " is at " + e.phase().word()
                        + ": do not revoke the old key yet, " + (missing.isEmpty() ? "the new key is not delivered"
                        : "targets " + String.join(", ", missing) + " still hold it"));
            }
            Instant now = clock.instant();
            JournalEntry done = e.finished(Phase.RETIRED, "revoked by hand", now);
            store.deleteAll(pendingPath(id));
            store.write(journalPath(id), done.owned(settings.agentId(), now, now).toData(),
                    OptionalInt.of(current.get().version()));
            forgetInFlight(id);
            record(done, "rotation.revoke_confirmed", AuditEvent.Outcome.OK,
                    "old version " + e.liveVersionBefore() + " revoked by hand");
            listener.entered(id, e.rotationId(), Phase.RETIRED);
            return new Outcome.Completed(id, e.rotationId(), e.liveVersionBefore(), e.newVersion());
        } catch (CasConflictException c) {
            return new Outcome.Skipped(id, "the journal changed meanwhile; try again");
        } catch (StoreException e) {
            return new Outcome.Stopped(id, "-", Phase.DELIVERED, e.getMessage());
        }
    }

    private Outcome announceDue(SecretBinding b, Optional<SecretMetadata> meta, boolean force, boolean emergency)
            throws StoreException {
        Instant due = dueAt(b, meta);
        Instant announce = due.minus(b.issuer().orElseThrow().notice());
        Instant now = clock.instant();
        if (!force && !emergency && now.isBefore(announce)) {
            return new Outcome.Skipped(b.id(), "not due until " + due + " (announced from " + announce + ")");
        }
        int live = meta.map(SecretMetadata::currentVersion).orElse(0);
        String ask = "create a new key in DocBits' settings, then hand it over with 'keyward submit " + b.id()
                + (emergency ? " --emergency" : "") + "' (it reads standard input) or write it to " + b.livePath();
        boolean announced = meta.map(m -> number(m.customMetadata().get(DUE_ANNOUNCED))).orElse(-1) == live;
        if (emergency || !announced) {
            String detail = (emergency ? "emergency: replace the key now" : "due " + due) + "; " + ask;
            audit.record(AuditEvent.of(emergency ? "rotation.emergency" : "rotation.due").path(b.id())
                    .version(live > 0 ? live : null).outcome(AuditEvent.Outcome.OK).attribute("detail", detail).build());
            notifier.announce(new Plugins.Notice(emergency ? "emergency" : "due", b.id(), null, live, detail));
            if (meta.isPresent() && !emergency) {
                setCustom(b.livePath(), meta.get().customMetadata(), Map.of(DUE_ANNOUNCED, String.valueOf(live)));
            }
        }
        return new Outcome.AwaitingPerson(b.id(), due, now.plus(MANUAL_RECHECK), "due " + due + ", waiting for a person: " + ask);
    }

    /** Marks a version as not to be delivered, and says so (audit, notification) once. */
    private void refuse(SecretBinding b, SecretMetadata m, int version, String why, String rotationId)
            throws StoreException {
        setCustom(b.livePath(), m.customMetadata(), Map.of(REFUSED, String.valueOf(version)));
        audit.record(AuditEvent.of("sync.refused").path(b.id()).version(version).outcome(AuditEvent.Outcome.FAILED)
                .attribute("rotation_id", rotationId).attribute("detail", why).build());
        notifier.announce(new Plugins.Notice("rejected", b.id(), rotationId, version, why));
    }

    /** Writes {@code current} with {@code changes} applied (custom metadata is written whole). */
    private void setCustom(SecretPath path, Map<String, String> current, Map<String, String> changes) throws StoreException {
        Map<String, String> custom = new HashMap<>(current);
        custom.putAll(changes);
        store.writeCustomMetadata(path, custom);
    }

    /** The same, starting from what the store holds now. */
    private void setCustom(SecretPath path, Map<String, String> changes) throws StoreException {
        setCustom(path, store.metadata(path).map(SecretMetadata::customMetadata).orElse(Map.of()), changes);
    }

    private static int number(String s) {
        try {
            return s == null ? -1 : Integer.parseInt(s.strip());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** The live version; empty when there is none or it is deleted or destroyed. */
    private Optional<VersionedSecret> readLive(SecretBinding b) throws StoreException {
        try {
            return store.read(b.livePath());
        } catch (VersionGoneException gone) {
            return Optional.empty();
        }
    }

    private Outcome claim(SecretBinding b, Optional<Journaled> current, Optional<SecretMetadata> meta, String trigger,
                          boolean emergency, String supplied) throws StoreException {
        String id = b.id();
        int live = meta.map(SecretMetadata::currentVersion).orElse(0);
        boolean external = JournalEntry.VAULT_CHANGE.equals(trigger);
        // A version someone else wrote replaces the one the targets have, not the live one.
        int before = external ? Math.max(0, meta.map(m -> number(m.customMetadata().get(DELIVERED))).orElse(0)) : live;
        Instant now = clock.instant();
        JournalEntry start = JournalEntry.start(id, UUID.randomUUID().toString(), settings.agentId(), now,
                now.plus(settings.lease()), trigger, emergency, before,
                current.map(c -> c.entry().history()).orElse(List.of()));
        if (external) start = start.promotedAs(live);
        store.write(inFlightPath(id), SecretData.of("rotation", start.rotationId()), OptionalInt.empty());
        int version;
        try {
            version = store.write(journalPath(id), start.toData(),
                    OptionalInt.of(current.map(Journaled::version).orElse(0)));
        } catch (CasConflictException e) {
            return new Outcome.Skipped(id, "another agent claimed the rotation first");
        }
        record(start, "rotation.claimed", AuditEvent.Outcome.OK, null);
        if (emergency) {
            notifier.announce(new Plugins.Notice("emergency", id, start.rotationId(), start.liveVersionBefore(),
                    "emergency rotation: the old value is retired as soon as every target has the new one"));
        }
        listener.entered(id, start.rotationId(), Phase.CLAIMED);
        Run run = new Run(b, start, version);
        run.supplied = supplied;
        return run.go();
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
        /** The new value a person handed over (manual issuance), used at STAGED instead of the issuer. */
        private String supplied;

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
                    if (stopping) {
                        return new Outcome.Stopped(b.id(), e.rotationId(), e.phase(),
                                "keyward is stopping; the journal holds the rotation for the next start");
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
                case CLAIMED -> {
                    if (e.external()) adopt();
                    else stage();
                }
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

        /** A version someone else wrote is live already: nothing to stage or apply; it goes to VERIFY. */
        private void adopt() throws StoreException {
            Optional<SecretData> live = pendingIfAny();
            if (live.isEmpty()) {
                fail("v" + e.newVersion() + " is gone from Vault");
                return;
            }
            SecretData value = live.get();
            if (value.string(b.field()).filter(v -> !v.isEmpty()).isEmpty()) {
                fail("field '" + b.field() + "' of v" + e.newVersion() + " is empty or missing");
                return;
            }
            advance(e.staged(0, fingerprints.of(value)).to(Phase.APPLIED, clock.instant()));
        }

        private void stage() throws StoreException {
            Optional<VersionedSecret> live = readLive(b);
            String value;
            try {
                value = supplied != null ? supplied : b.issued()
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
            if (e.external()) {
                advance(e.to(Phase.PROMOTED, clock.instant()));
                return;
            }
            SecretData value = pending();
            int promoted;
            try {
                promoted = store.write(b.livePath(), value, OptionalInt.of(e.liveVersionBefore()));
            } catch (CasConflictException conflict) {
                Optional<VersionedSecret> live = readLive(b);
                if (live.isPresent() && fingerprints.of(live.get().data()).equals(e.newFingerprint())) {
                    promoted = live.get().version(); // our own write, made before a crash
                } else {
                    String who = live.map(v -> "version " + v.version()).orElse("a deletion");
                    record(e, "rotation.conflict", AuditEvent.Outcome.CONFLICT, "live value changed to " + who);
                    fail("the live value changed (" + who + ") while rotating: someone else rotated it");
                    return;
                }
            }
            setCustom(b.livePath(), Map.of("keyward-rotation", e.rotationId(), "keyward-current", String.valueOf(promoted),
                    "keyward-previous", String.valueOf(e.liveVersionBefore())));
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
                    String why = failure.getMessage();
                    record(e, "rotation.target", AuditEvent.Outcome.FAILED, "target " + t.id() + ": " + why);
                    if (failure instanceof Plugins.Unhealthy && t.rollsBack()) why += "; " + restore(t);
                    failures.add(t.id() + ": " + why);
                }
            }
            Instant now = clock.instant();
            if (!failures.isEmpty()) {
                Instant retry = now.plus(b.policy().retry().max());
                String why = "delivery failing: " + String.join("; ", failures);
                boolean saidSo = why.equals(e.lastError());
                save(e.failed(why, retry, now));
                if (!saidSo) { // announced when the failure starts or changes, not at every retry
                    notifier.announce(new Plugins.Notice("degraded", b.id(), e.rotationId(), e.newVersion(),
                            why + "; the old value stays valid"));
                }
                return Optional.of(new Outcome.Waiting(b.id(), e.rotationId(), Phase.PROMOTED, retry,
                        "delivery failing, old value kept valid: " + String.join("; ", failures)));
            }
            markDelivered();
            Duration grace = e.emergency() || e.liveVersionBefore() == 0 ? Duration.ZERO : b.policy().grace();
            advance(e.to(Phase.DELIVERED, now).retiringAfter(now.plus(grace)));
            return Optional.empty();
        }

        /** Gives a target whose health check failed its previous value back; says what happened. */
        private String restore(Plugins.Target t) throws StoreException {
            int old = e.liveVersionBefore();
            if (old == 0) return "no previous value to roll it back to";
            try {
                Optional<SecretData> previous = store.read(b.livePath(), old).map(VersionedSecret::data);
                if (previous.isEmpty()) return "previous v" + old + " is missing: not rolled back";
                t.restore(b.id(), old, previous.get());
                record(e, "rotation.target_rolled_back", AuditEvent.Outcome.OK, "target " + t.id() + " back on v" + old);
                return "rolled back to v" + old;
            } catch (VersionGoneException gone) {
                return "previous v" + old + " is deleted in Vault: not rolled back";
            } catch (IOException failure) {
                record(e, "rotation.target_rolled_back", AuditEvent.Outcome.FAILED, "target " + t.id() + ": "
                        + failure.getMessage());
                return "rolling back to v" + old + " failed too: " + failure.getMessage();
            }
        }

        /** Records on the live path which version every target has, so the watch does not deliver it again. */
        private void markDelivered() throws StoreException {
            setCustom(b.livePath(), Map.of(DELIVERED, String.valueOf(e.newVersion())));
        }

        private Optional<Outcome> retire() throws StoreException {
            Instant now = clock.instant();
            if (e.retireAfter() != null && now.isBefore(e.retireAfter())) {
                return Optional.of(new Outcome.Waiting(b.id(), e.rotationId(), Phase.DELIVERED, e.retireAfter(),
                        "old version " + e.liveVersionBefore() + " stays valid during the grace period"));
            }
            String note = null;
            Optional<Plugins.Issuer> issuer = b.issuer();
            boolean manual = issuer.isPresent() && issuer.get().manual();
            if (issuer.isPresent() && e.external() && !manual) {
                note = "v" + e.newVersion() + " was written in Vault outside keyward: old version " + e.liveVersionBefore()
                        + " is left to whoever replaced it";
            } else if (issuer.isPresent() && e.liveVersionBefore() > 0) {
                Optional<String> old;
                try {
                    old = store.read(b.livePath(), e.liveVersionBefore()).flatMap(v -> v.data().string(b.field()));
                } catch (VersionGoneException gone) {
                    old = Optional.empty();
                    note = "old version " + e.liveVersionBefore() + " was deleted in Vault: revoke it at the issuer by hand";
                }
                if (old.isPresent()) {
                    String oldValue = old.get();
                    // Once a manual key is reported revocable the person decides; keyward's own
                    // revocation probes would otherwise count as use.
                    if (!(manual && e.marked("revocable").isPresent())) {
                        Optional<Outcome> inUse = stillUsed(issuer.get(), oldValue, now);
                        if (inUse.isPresent()) return inUse;
                    }
                    if (manual) {
                        Optional<Outcome> waiting = awaitRevocation(issuer.get(), oldValue, now);
                        if (waiting.isPresent()) return waiting;
                        note = "old version " + e.liveVersionBefore() + " is seen revoked at the issuer";
                    } else {
                        try {
                            retrier.call(() -> {
                                issuer.get().revoke(b.id(), oldValue);
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
            }
            store.deleteAll(pendingPath(b.id()));
            JournalEntry done = e.finished(Phase.RETIRED, e.emergency() ? "emergency" : "completed", now);
            if (note != null) done = done.failed(note, null, now);
            advance(done);
            return Optional.empty();
        }

        /**
         * Keeps the old value alive while the issuer reports it used within its quiet period: some
         * consumer still holds it, whatever the acks say.
         */
        private Optional<Outcome> stillUsed(Plugins.Issuer issuer, String oldValue, Instant now) throws StoreException {
            Optional<Instant> used;
            try {
                used = issuer.lastUsed(b.id(), oldValue);
            } catch (IOException failure) {
                Instant retry = now.plus(b.policy().retry().max());
                save(e.failed("cannot tell whether the old value is still used: " + failure.getMessage(), retry, now));
                return Optional.of(new Outcome.Waiting(b.id(), e.rotationId(), Phase.DELIVERED, retry,
                        "cannot tell whether the old value is still used: " + failure.getMessage()));
            }
            if (used.isEmpty() || !used.get().isAfter(now.minus(issuer.quiet()))) return Optional.empty();
            Instant retry = now.plus(b.policy().retry().max());
            String why = "old version " + e.liveVersionBefore() + " was still used at " + used.get()
                    + " (less than " + issuer.quiet().toMinutes() + " min ago): a consumer still holds it";
            boolean saidSo = e.lastError() != null && e.lastError().contains("a consumer still holds it");
            save(e.failed(why, retry, now));
            record(e, "rotation.old_in_use", AuditEvent.Outcome.FAILED, why);
            if (!saidSo) { // once per stretch of use, not at every look
                notifier.announce(new Plugins.Notice("degraded", b.id(), e.rotationId(), e.liveVersionBefore(), why
                        + "; it is not retired"));
            }
            return Optional.of(new Outcome.Waiting(b.id(), e.rotationId(), Phase.DELIVERED, retry, why));
        }

        /**
         * Manual issuance: says once that the old key may now be revoked, then waits until a person
         * confirms it, or the issuer is seen to refuse the old key.
         */
        private Optional<Outcome> awaitRevocation(Plugins.Issuer issuer, String oldValue, Instant now)
                throws StoreException {
            boolean refused;
            try {
                refused = issuer.refuses(b.id(), oldValue);
            } catch (IOException cannotTell) {
                refused = false;
            }
            if (refused) return Optional.empty();
            String ask = "old version " + e.liveVersionBefore() + " may now be revoked in DocBits' settings"
                    + " (every target has v" + e.newVersion() + "); then run 'keyward confirm-revoked " + b.id() + "'";
            if (e.marked("revocable").isEmpty()) {
                record(e, "rotation.revocable", AuditEvent.Outcome.OK, ask);
                notifier.announce(new Plugins.Notice("revocable", b.id(), e.rotationId(), e.liveVersionBefore(), ask));
                JournalEntry next = e.mark("revocable", now);
                save(next.failed(null, now.plus(REVOCATION_CHECK), now));
            } else {
                save(e.failed(null, now.plus(REVOCATION_CHECK), now));
            }
            return Optional.of(new Outcome.Waiting(b.id(), e.rotationId(), Phase.DELIVERED, e.retryAt(), ask));
        }

        private Optional<Outcome> rollback() throws StoreException {
            if (e.external()) {
                String why = "v" + e.newVersion() + " written in Vault was not delivered: " + e.rollback();
                Optional<SecretMetadata> m = store.metadata(b.livePath());
                if (m.isPresent()) refuse(b, m.get(), e.newVersion(), why, e.rotationId());
                advance(e.finished(Phase.ROLLED_BACK, "refused", clock.instant()));
                return Optional.of(new Outcome.RolledBack(b.id(), e.rotationId(), why));
            }
            boolean manual = b.issuer().isPresent() && b.issuer().get().manual();
            if (b.issuer().isPresent() && !manual && e.pendingVersion() > 0 && (b.issued() || e.phase() != Phase.CLAIMED)) {
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
            String reason = e.rollback() + (manual && e.pendingVersion() > 0
                    ? "; the submitted key was not used: revoke it in DocBits' settings" : "");
            JournalEntry done = e.finished(Phase.ROLLED_BACK, "rolled_back", clock.instant());
            advance(done);
            notifier.announce(new Plugins.Notice("failed", b.id(), e.rotationId(), e.liveVersionBefore(),
                    "rotation rolled back, the old value stays live: " + reason));
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

        /** The new value: the pending copy, or for a version someone else wrote, that live version. */
        private Optional<SecretData> pendingIfAny() throws StoreException {
            if (pendingValue != null) return Optional.of(pendingValue);
            SecretPath path = e.external() ? b.livePath() : pendingPath(b.id());
            int v = e.external() ? e.newVersion() : e.pendingVersion();
            if (v <= 0) return Optional.empty();
            try {
                pendingValue = store.read(path, v).map(VersionedSecret::data).orElse(null);
            } catch (VersionGoneException gone) {
                pendingValue = null;
            }
            return Optional.ofNullable(pendingValue);
        }

        private void advance(JournalEntry next) throws StoreException {
            Instant now = clock.instant();
            save(next.owned(settings.agentId(), next.phase().terminal() ? now : now.plus(settings.lease()), now));
            if (next.phase().terminal()) forgetInFlight(b.id());
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
        return !(e instanceof Plugins.Rejected) && !(e instanceof Plugins.Unhealthy) && !(e instanceof CasConflictException);
    }
}
