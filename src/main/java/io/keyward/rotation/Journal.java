package io.keyward.rotation;

import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * keyward's own records in Vault, below its state path: the journal of each secret (written with
 * check-and-set), the in-flight markers that let a starting agent find rotations with one LIST,
 * the pending new value, and the kept copy of the old value until it is retired.
 */
public final class Journal {

    /** A journal entry with the store version it was read at. */
    public record Journaled(JournalEntry entry, int version) {}

    /** A journal write whose answer was lost: whether it landed is told by the next read. */
    private record Unsure(JournalEntry written, Phase before, int expected) {}

    /** What a read showed of a write whose answer was lost. */
    private enum Settled { LANDED, ABSENT, WRITTEN_BY_ANOTHER }

    private final SecretStore store;
    private final SecretPath state;
    private final AuditLog audit;
    private final java.util.concurrent.ConcurrentMap<String, Unsure> unsure = new java.util.concurrent.ConcurrentHashMap<>();

    Journal(SecretStore store, SecretPath state, AuditLog audit) {
        this.store = store;
        this.state = state;
        this.audit = audit;
    }

    SecretPath journalPath(String secretId) {
        return state.child("journal").child(secretId);
    }

    SecretPath pendingPath(String secretId) {
        return state.child("pending").child(secretId);
    }

    /**
     * The old value a rotation will retire, kept from its claim on because Vault may drop old
     * versions; one path per rotation, so that an agent losing a claim never overwrites the
     * winner's copy.
     */
    SecretPath retiringPath(String secretId, String rotationId) {
        return state.child("retiring").child(secretId).child(rotationId);
    }

    /** A rotation's new key whose promotion could not be told apart from someone else's write: kept for a person. */
    SecretPath supersededPath(String secretId, String rotationId) {
        return state.child("superseded").child(secretId).child(rotationId);
    }

    SecretPath keepSuperseded(String secretId, String rotationId, SecretData value) throws StoreException {
        SecretPath p = supersededPath(secretId, rotationId);
        store.write(p, value, OptionalInt.empty());
        return p;
    }

    /** Written before a write whose answer was lost is looked for, so that the read sees the newest state. */
    SecretPath settlingPath(String secretId) {
        return state.child("settling").child(secretId);
    }

    SecretPath inFlightPath(String secretId) {
        return state.child("inflight").child(secretId);
    }

    /**
     * The secret's journal, if it has one. A write of it whose answer was lost is settled first;
     * while it cannot be (Vault does not answer), the journal is not read at all: a step written
     * on top of an unsettled one would make the trail say the earlier one did not land when the
     * check at last finds the later one in its place.
     */
    Optional<Journaled> read(String secretId) throws StoreException {
        settleOpen(secretId);
        Optional<VersionedSecret> v = store.read(journalPath(secretId));
        if (v.isEmpty()) return Optional.empty();
        return Optional.of(new Journaled(JournalCodec.fromData(secretId, v.get().data()), v.get().version()));
    }

    /**
     * Claims a rotation: the copy of the old value and the in-flight marker first (so that a
     * crash leaves at worst a copy and a marker with nothing behind them), then the entry with
     * check-and-set on the version read before. A lost claim removes its copy; a won one removes
     * copies left by claims that crashed.
     */
    Journaled claim(JournalEntry start, int expected, Optional<SecretData> old) throws StoreException {
        String id = start.secretId();
        if (old.isPresent()) keepOld(id, start.rotationId(), old.get());
        store.write(inFlightPath(id), SecretData.of("rotation", start.rotationId()), OptionalInt.empty());
        int v;
        try {
            v = write(start, null, expected);
        } catch (CasConflictException lost) {
            if (old.isPresent()) store.deleteAll(retiringPath(id, start.rotationId()));
            throw lost;
        }
        if (old.isPresent()) {
            for (String other : store.list(state.child("retiring").child(id))) {
                if (!other.endsWith("/") && !other.equals(start.rotationId())) {
                    store.deleteAll(state.child("retiring").child(id).child(other));
                }
            }
        }
        return new Journaled(start, v);
    }

    /** Writes the next entry with check-and-set on the one read; a conflict means another agent wrote it. */
    Journaled save(Journaled current, JournalEntry next) throws StoreException {
        return new Journaled(next, write(next, current.entry().phase(), current.version()));
    }

    /**
     * Writes an entry with check-and-set, after the audit line that announces it (so no step is
     * journaled that the audit trail does not show first). When the request left and no answer
     * came, the version it would have made is read at once: a write that landed counts as done, one that did not is a
     * conflict if another agent wrote that version, else the failure stands. Either way an audit
     * line says so; when even that read fails, the next read of the journal settles it.
     */
    private int write(JournalEntry next, Phase before, int expected) throws StoreException {
        settleOpen(next.secretId());
        audit.announce(Core.stepEvent(next, "journal.intent", AuditEvent.Outcome.PENDING, null)
                .attribute("journal_version", expected + 1).build());
        try {
            return store.write(journalPath(next.secretId()), JournalCodec.toData(next), OptionalInt.of(expected));
        } catch (StoreException e) {
            if (!e.outcomeUnknown()) throw e;
            Unsure open = new Unsure(next, before, expected);
            unsure.put(next.secretId(), open);
            Optional<Settled> settled;
            try {
                settled = settle(open, false);
            } catch (StoreException unreadable) { // the entry at that version cannot be decoded
                throw e;
            }
            if (settled.isEmpty() || settled.get() == Settled.ABSENT) throw e;
            if (settled.get() == Settled.LANDED) return expected + 1;
            throw new CasConflictException(journalPath(next.secretId()), expected,
                    "another agent wrote v" + (expected + 1) + " while the answer to this agent's write was lost");
        }
    }

    /** Settles the secret's write whose answer was lost, if there is one; fails while that cannot be done. */
    private void settleOpen(String secretId) throws StoreException {
        Unsure open = unsure.get(secretId);
        if (open != null && settle(open, true).isEmpty()) {
            throw new StoreException("the journal of " + secretId + " is not read until the write of v" + (open.expected() + 1)
                    + " whose answer was lost is settled: Vault did not answer the check (retried at the next step)");
        }
    }

    /**
     * Reads the version an unanswered write would have made and audits whether it landed. Empty
     * when Vault did not answer this time either. {@code late}: the write's own step is audited
     * here too, since the run that made it has stopped.
     */
    private Optional<Settled> settle(Unsure open, boolean late) throws StoreException {
        String id = open.written().secretId();
        Optional<VersionedSecret> at;
        try {
            // The lost answer carried the state it made, so a standby may still be behind the write:
            // a write of this agent's own (made by the active node, its answer naming the state
            // after it) brings the read that follows up to every write made before.
            store.write(settlingPath(id), SecretData.of(java.util.Map.of("rotation", String.valueOf(open.written().rotationId()),
                    "journal_version", String.valueOf(open.expected() + 1))), OptionalInt.empty());
            at = store.read(journalPath(id), open.expected() + 1);
        } catch (VersionGoneException gone) {
            at = Optional.empty();
        } catch (StoreException e) {
            return Optional.empty(); // still unknown: kept for the next read of the journal
        }
        unsure.remove(id, open);
        JournalEntry written = open.written();
        boolean landed = at.isPresent() && JournalCodec.fromData(id, at.get().data())
                .equals(JournalCodec.fromData(id, JournalCodec.toData(written)));
        audit.record(Core.stepEvent(written, "journal.settled", landed ? AuditEvent.Outcome.OK : AuditEvent.Outcome.FAILED,
                (landed ? "the write whose answer was lost landed as v" : "the write whose answer was lost did not land; v")
                        + (open.expected() + 1) + (landed ? "" : at.isPresent() ? " was written by another agent"
                        : " does not exist")).attribute("journal_version", open.expected() + 1).build());
        if (landed && late && written.phase() != open.before()) {
            audit.record(Core.stepEvent(written, "rotation." + written.phase().word(),
                    written.phase() == Phase.ROLLED_BACK ? AuditEvent.Outcome.FAILED : AuditEvent.Outcome.OK,
                    "journaled; audited after the answer was lost").build());
        }
        return Optional.of(landed ? Settled.LANDED : at.isPresent() ? Settled.WRITTEN_BY_ANOTHER : Settled.ABSENT);
    }

    /** Secrets with a rotation marked in flight (some may have ended since). */
    List<String> inFlight() throws StoreException {
        return store.list(state.child("inflight")).stream().filter(k -> !k.endsWith("/")).toList();
    }

    /** Drops the in-flight marker; a stale marker only costs one journal read at the next start. */
    void forgetInFlight(String secretId) {
        try {
            store.deleteAll(inFlightPath(secretId));
        } catch (StoreException e) {
            // harmless: read again at the next start
        }
    }

    int writePending(String secretId, SecretData value) throws StoreException {
        return store.write(pendingPath(secretId), value, OptionalInt.empty());
    }

    Optional<SecretData> pending(String secretId, int version) throws StoreException {
        if (version <= 0) return Optional.empty();
        try {
            return store.read(pendingPath(secretId), version).map(VersionedSecret::data);
        } catch (VersionGoneException gone) {
            return Optional.empty();
        }
    }

    void keepOld(String secretId, String rotationId, SecretData old) throws StoreException {
        store.write(retiringPath(secretId, rotationId), old, OptionalInt.empty());
    }

    /** The old value kept for a rotation, if there is one. */
    Optional<SecretData> kept(String secretId, String rotationId) throws StoreException {
        if (rotationId == null) return Optional.empty();
        try {
            return store.read(retiringPath(secretId, rotationId)).map(VersionedSecret::data);
        } catch (VersionGoneException gone) {
            return Optional.empty();
        }
    }

    /** Removes a rotation's pending value and kept old one (rolling back, before it journals its end). */
    void discard(String secretId, String rotationId) throws StoreException {
        store.deleteAll(pendingPath(secretId));
        if (rotationId != null) store.deleteAll(retiringPath(secretId, rotationId));
    }

    /** The same once a rotation has journaled its end: a failure only leaves copies the next claim removes. */
    void discardQuietly(String secretId, String rotationId) {
        try {
            discard(secretId, rotationId);
        } catch (StoreException e) {
            // harmless: the next claim removes a left-over copy, and writes a new pending version
        }
    }
}
