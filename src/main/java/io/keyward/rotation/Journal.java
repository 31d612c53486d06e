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

    private final SecretStore store;
    private final SecretPath state;

    Journal(SecretStore store, SecretPath state) {
        this.store = store;
        this.state = state;
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

    SecretPath inFlightPath(String secretId) {
        return state.child("inflight").child(secretId);
    }

    /** The secret's journal, if it has one. */
    Optional<Journaled> read(String secretId) throws StoreException {
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
            v = store.write(journalPath(id), JournalCodec.toData(start), OptionalInt.of(expected));
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
        int v = store.write(journalPath(next.secretId()), JournalCodec.toData(next), OptionalInt.of(current.version()));
        return new Journaled(next, v);
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
