package io.keyward.rotation;

import io.keyward.policy.Policy;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Keeps this agent's targets on the live version, whoever wrote it. One read brings the value,
 * its version and the marks; the local ledger (once it is known to be this agent's record of this
 * Vault) says whether this agent's targets should have it, and {@link Repair} checks that they do,
 * so a watch with nothing new costs that one read. A version with nothing to verify (or promoted by a
 * keyward rotation) is delivered directly; one written by someone else that must be verified goes
 * through the journal. While a rotation of that version is in flight, this agent acknowledges its
 * targets in the journal for the rotation's owner to see.
 */
final class Sync {

    private static final int ACK_TRIES = 5;

    private final Core core;

    Sync(Core core) {
        this.core = core;
    }

    /** {@code force}: write every target again, whatever the ledger says. */
    Outcome sync(SecretBinding b, boolean force) throws StoreException {
        Optional<VersionedSecret> read;
        try {
            read = core.store().read(b.livePath());
        } catch (VersionGoneException gone) {
            return throughJournal(b);
        }
        if (read.isEmpty()) {
            Optional<Journal.Journaled> j = core.journal().read(b.id());
            if (j.isPresent() && j.get().entry().active()) return new Claims(core).drive(b, j.get(), false);
            return new Outcome.Skipped(b.id(), "no value in Vault yet");
        }
        VersionedSecret live = read.get();
        int version = live.version();
        Map<String, String> custom = live.customMetadata();
        if (LiveMarks.refused(custom) == version) {
            return new Outcome.Refused(b.id(), version, "was refused earlier; consumers keep the version they have");
        }
        Optional<String> rotation = Optional.ofNullable(custom.get(LiveMarks.ROTATION));
        Ledger.Entry ledger = own(b, live);
        if (!force && has(b, ledger, version)) {
            // Once per rotation: if it is still in flight, it may wait for this agent's acknowledgement.
            if (rotation.isPresent() && !rotation.get().equals(ledger.settled())) {
                Optional<Outcome> failing = settle(b, rotation.get());
                if (failing.isPresent()) return failing.get();
            }
            return new Repair(core, this).repair(b, live).orElse(new Outcome.UpToDate(b.id(), version));
        }
        boolean verified = LiveMarks.current(custom) == version;
        boolean manualWithOld = b.source() instanceof KeySource.Manual && LiveMarks.current(custom) > 0;
        if (!verified && (!b.verifiers().isEmpty() || manualWithOld)) return throughJournal(b);
        if (live.data().string(b.field()).filter(v -> !v.isEmpty()).isEmpty()) return throughJournal(b);
        return deliverLive(b, live, rotation, force);
    }

    /**
     * Delivers the live version to the targets lacking it; then, if a rotation is in flight, this
     * agent acknowledges it (or delivers its newer version first).
     */
    private Outcome deliverLive(SecretBinding b, VersionedSecret live, Optional<String> rotation, boolean force)
            throws StoreException {
        int version = live.version();
        List<String> failures = new ArrayList<>();
        deliver(b, version, live.data(), null, force, failures);
        // The journal is read only when the marks name a rotation this agent has not settled: with
        // nothing in flight one read of the live version is the whole sync. (A rotation promoted
        // a moment before its marks are written is acknowledged at the next watch.)
        boolean unsettled = rotation.isPresent() && !rotation.get().equals(ledger(b).settled());
        Optional<Journal.Journaled> j = unsettled ? core.journal().read(b.id()) : Optional.empty();
        boolean flight = j.isPresent() && j.get().entry().active() && j.get().entry().phase().promoted();
        if (flight && (failures.isEmpty() || j.get().entry().newVersion() > version)) {
            Outcome member = new Claims(core).drive(b, j.get(), false);
            if (j.get().entry().newVersion() > version || !(member instanceof Outcome.InFlightElsewhere)) return member;
        }
        if (!failures.isEmpty()) return undelivered(b, version, failures, "retried at the next watch");
        if (rotation.isPresent() && !flight) settled(b, rotation.get());
        core.audit().record(AuditEvent.of("sync.delivered").path(b.id()).version(version)
                .fingerprint(core.fingerprints().of(live.data())).attribute("trigger", JournalEntry.VAULT_CHANGE)
                .attribute("detail", "v" + version + " delivered to every target of this agent").build());
        return new Outcome.Delivered(b.id(), version, b.targets().size());
    }

    /** The rotation the marks name may still be in flight: acknowledges it (delivering first if needed), then notes it settled. */
    private Optional<Outcome> settle(SecretBinding b, String rotationId) throws StoreException {
        Optional<Journal.Journaled> j = core.journal().read(b.id());
        if (j.isPresent() && j.get().entry().active() && rotationId.equals(j.get().entry().rotationId())) {
            Outcome o = new Claims(core).drive(b, j.get(), false);
            return o instanceof Outcome.InFlightElsewhere ? Optional.empty() : Optional.of(o);
        }
        settled(b, rotationId);
        return Optional.empty();
    }

    /**
     * A rotation of this secret is in flight and another agent drives it (or this agent's watch
     * found it): delivers its promoted version to this agent's targets that lack it (or a newer
     * one) and acknowledges them in the journal.
     */
    Outcome asMember(SecretBinding b, Journal.Journaled j) throws StoreException {
        JournalEntry e = j.entry();
        Outcome elsewhere = new Outcome.InFlightElsewhere(b.id(), e.rotationId(), e.owner(), e.leaseUntil());
        if (!e.phase().promoted() || e.newVersion() == 0) return elsewhere;
        int version = e.newVersion();
        if (b.targets().stream().allMatch(t -> e.ack(core.self(), t.id()).isPresent())) {
            settled(b, e.rotationId());
            return elsewhere;
        }
        Optional<VersionedSecret> value = valueOf(b, e);
        if (value.isEmpty()) return elsewhere; // the owner finds out why
        List<String> failures = new ArrayList<>();
        Map<String, Integer> held = deliver(b, value.get().version(), value.get().data(), e, false, failures);
        acknowledge(b, j, held);
        if (!failures.isEmpty()) return undelivered(b, value.get().version(), failures, "the old value stays valid");
        settled(b, e.rotationId());
        return elsewhere;
    }

    /** The value of the rotation's version: as promoted, else its pending copy, else a newer live version. */
    private Optional<VersionedSecret> valueOf(SecretBinding b, JournalEntry e) throws StoreException {
        Optional<SecretData> promoted = core.liveAt(b, e.newVersion());
        if (promoted.isEmpty() && !e.external()) promoted = core.journal().pending(b.id(), e.pendingVersion());
        if (promoted.isPresent()) {
            return Optional.of(new VersionedSecret(b.livePath(), e.newVersion(), promoted.get(), core.clock().instant()));
        }
        try {
            return core.store().read(b.livePath()).filter(v -> v.version() > e.newVersion());
        } catch (VersionGoneException gone) {
            return Optional.empty();
        }
    }

    /**
     * Journals this agent's acknowledgements of the targets that hold the rotation's version (or a
     * newer one) by evidence ({@code held}: what each target holds), reading again on a conflict.
     */
    private void acknowledge(SecretBinding b, Journal.Journaled first, Map<String, Integer> held) throws StoreException {
        Journal.Journaled j = first;
        String rotationId = first.entry().rotationId();
        for (int attempt = 1; ; attempt++) {
            JournalEntry e = j.entry();
            Instant now = core.clock().instant();
            Map<String, JournalEntry.Ack> acks = new TreeMap<>();
            for (Plugins.Target t : b.targets()) {
                int has = held.getOrDefault(t.id(), 0);
                if (e.ack(core.self(), t.id()).isEmpty() && has >= e.newVersion()) acks.put(t.id(), new JournalEntry.Ack(has, now));
            }
            if (acks.isEmpty()) return;
            try {
                core.journal().save(j, e.acked(core.self(), acks, now));
                core.record(e, "rotation.acknowledged", AuditEvent.Outcome.OK, "targets " + String.join(", ", acks.keySet())
                        + " of " + core.self());
                return;
            } catch (CasConflictException busy) {
                if (attempt >= ACK_TRIES) throw busy;
                Optional<Journal.Journaled> again = core.journal().read(b.id());
                if (again.isEmpty() || !again.get().entry().active() || !rotationId.equals(again.get().entry().rotationId())) {
                    return; // the rotation ended meanwhile
                }
                j = again.get();
            }
        }
    }

    /**
     * Puts the version on each target of this agent ({@link Handover}: those holding it already are
     * left alone); returns what each target then holds, and adds a line per failure to {@code failures}.
     */
    private Map<String, Integer> deliver(SecretBinding b, int version, SecretData value, JournalEntry rotation, boolean force,
                                         List<String> failures) {
        Retrier retrier = core.retrier(b);
        Map<String, Integer> held = new TreeMap<>();
        for (Plugins.Target t : b.targets()) {
            try {
                Handover.Held h = new Handover(core).put(b, t, version, value, retrier, force);
                held.put(t.id(), h.version());
                if (h.written()) audit(b, h.version(), value, rotation, AuditEvent.Outcome.OK, "target " + t.id());
            } catch (IOException failure) {
                failures.add(t.id() + ": " + failure.getMessage());
                audit(b, version, value, rotation, AuditEvent.Outcome.FAILED, "target " + t.id() + ": " + failure.getMessage());
            }
        }
        return held;
    }

    Outcome undelivered(SecretBinding b, int version, List<String> failures, String then) {
        String why = "delivery failing: " + String.join("; ", failures);
        announceOnce(b, version, why + "; " + then);
        return new Outcome.Undelivered(b.id(), version, core.clock().instant().plus(b.policy().retry().max()), why);
    }

    private void settled(SecretBinding b, String rotationId) throws StoreException {
        String vault = core.installation().id();
        try (java.io.Closeable held = core.ledger().lock(b.id())) {
            Ledger.Entry now = ledger(b).in(vault);
            if (!rotationId.equals(now.settled())) core.ledger().put(b.id(), now.settled(rotationId));
        } catch (IOException failure) {
            throw new StoreException("cannot write the local ledger of " + b.id() + ": " + failure.getMessage(), failure);
        }
    }

    /** A version with verify steps, written by someone else: claimed and verified before delivery. */
    private Outcome throughJournal(SecretBinding b) throws StoreException {
        Optional<Journal.Journaled> j = core.journal().read(b.id());
        if (j.isPresent() && j.get().entry().active()) return new Claims(core).drive(b, j.get(), false);
        Optional<SecretMetadata> meta = core.store().metadata(b.livePath());
        if (meta.isEmpty() || meta.get().currentVersion() == 0) return new Outcome.Skipped(b.id(), "no value in Vault yet");
        SecretMetadata m = meta.get();
        int version = m.currentVersion();
        if (LiveMarks.refused(m.customMetadata()) == version) {
            return new Outcome.Refused(b.id(), version, "was refused earlier; consumers keep the version they have");
        }
        Optional<SecretMetadata.VersionState> state = m.version(version);
        if (state.isPresent() && !state.get().readable()) {
            String why = "is " + (state.get().destroyed() ? "destroyed" : "deleted")
                    + " in Vault: not delivered; consumers keep the version they have";
            refuse(b, m.customMetadata(), version, "v" + version + " " + why, null);
            return new Outcome.Refused(b.id(), version, why);
        }
        return new Claims(core).claim(b, j, meta, JournalEntry.VAULT_CHANGE, false, null);
    }

    /** Marks a version as not to be delivered, and says so (audit, notification) once. */
    void refuse(SecretBinding b, Map<String, String> custom, int version, String why, String rotationId)
            throws StoreException {
        core.marks().refuse(b.livePath(), custom, version);
        core.audit().record(AuditEvent.of("sync.refused").path(b.id()).version(version).outcome(AuditEvent.Outcome.FAILED)
                .attribute("rotation_id", rotationId).attribute("detail", why).build());
        core.notice(Policy.NoticeKind.REJECTED, b.id(), rotationId, version, why);
    }

    private boolean has(SecretBinding b, Ledger.Entry ledger, int version) {
        return b.targets().stream().allMatch(t -> ledger.version(t.id()) >= version);
    }

    /**
     * This agent's ledger entry of the secret, if it is its record of the secret as Vault holds it
     * now ({@link Evidence#foreign}); otherwise the entry is discarded, with a {@code degraded}
     * notice (once per cause) and an audit line, and every target is checked and written again.
     */
    private Ledger.Entry own(SecretBinding b, VersionedSecret live) throws StoreException {
        String vault = core.installation().id();
        try (java.io.Closeable held = core.ledger().lock(b.id())) {
            Ledger.Entry e = ledger(b);
            java.util.Map<Integer, String> vaultHas = new java.util.HashMap<>();
            vaultHas.put(live.version(), core.fingerprints().of(live.data()));
            if (vault.equals(e.vault())) {
                for (int v : Evidence.above(e, live.version())) {
                    core.liveAt(b, v).ifPresent(d -> vaultHas.put(v, core.fingerprints().of(d)));
                }
            }
            Optional<String> why = Evidence.foreign(e, vault, live.version(), vaultHas);
            if (why.isEmpty()) return e;
            Ledger.Entry fresh = Ledger.Entry.EMPTY.in(vault);
            core.ledger().put(b.id(), fresh);
            String detail = "the local ledger's entry of " + b.id() + " is not this agent's record of this Vault: " + why.get()
                    + "; every target of " + b.id() + " is checked and written again";
            core.audit().record(AuditEvent.of("ledger.discarded").path(b.id()).version(live.version())
                    .outcome(AuditEvent.Outcome.FAILED).attribute("detail", detail).build());
            if (!detail.equals(core.said().put("ledger " + b.id(), detail))) {
                core.notice(Policy.NoticeKind.DEGRADED, b.id(), null, live.version(), detail);
            }
            return fresh;
        } catch (StoreException failure) {
            throw failure;
        } catch (IOException failure) {
            throw new StoreException("cannot write the local ledger of " + b.id() + ": " + failure.getMessage(), failure);
        }
    }

    private void announceOnce(SecretBinding b, int version, String why) {
        String key = b.id() + "@" + version;
        if (why.equals(core.said().put(key, why))) return;
        core.notice(Policy.NoticeKind.DEGRADED, b.id(), null, version, why);
    }

    void audit(SecretBinding b, int version, SecretData value, JournalEntry rotation, AuditEvent.Outcome outcome,
                       String detail) {
        if (rotation != null) {
            core.record(rotation, "rotation.target", outcome, detail + " (member " + core.self() + ")");
            return;
        }
        core.audit().record(AuditEvent.of("sync.delivered").path(b.id()).version(version).outcome(outcome)
                .fingerprint(core.fingerprints().of(value)).attribute("trigger", JournalEntry.VAULT_CHANGE)
                .attribute("detail", detail).build());
    }

    private Ledger.Entry ledger(SecretBinding b) throws StoreException {
        try {
            return core.ledger().get(b.id());
        } catch (IOException failure) {
            throw new StoreException("cannot read the local ledger of " + b.id() + ": " + failure.getMessage(), failure);
        }
    }
}
