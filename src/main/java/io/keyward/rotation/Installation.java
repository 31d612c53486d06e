package io.keyward.rotation;

import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.Supplier;

/**
 * Which Vault this is, as keyward tells it: a random id the first agent writes once (check-and-set)
 * at {@code <state>/installation}, read once per process. A ledger entry names the id it was
 * written against, so that a state folder kept across a rebuilt or replaced Vault is not taken for
 * this Vault's record. (A Vault restored from a snapshot keeps the id: the ledger's versions and
 * fingerprints tell that case.)
 */
final class Installation {

    static final String FIELD = "id";

    private final SecretStore store;
    private final SecretPath path;
    private final Supplier<String> ids;
    private volatile String id;

    Installation(SecretStore store, SecretPath state, Supplier<String> ids) {
        this.store = store;
        this.path = state.child("installation");
        this.ids = ids;
    }

    /** This Vault's installation id, written first if no agent has yet. */
    String id() throws StoreException {
        String known = id;
        if (known != null) return known;
        synchronized (this) {
            if (id == null) id = readOrCreate();
            return id;
        }
    }

    private String readOrCreate() throws StoreException {
        int version = 0;
        try {
            Optional<VersionedSecret> v = store.read(path);
            Optional<String> found = v.flatMap(x -> x.data().string(FIELD)).filter(s -> !s.isEmpty());
            if (found.isPresent()) return found.get();
            version = v.map(VersionedSecret::version).orElse(0);
        } catch (VersionGoneException gone) {
            version = store.metadata(path).map(SecretMetadata::currentVersion).orElse(0);
        }
        String fresh = "kw-" + ids.get();
        try {
            store.write(path, SecretData.of(Map.of(FIELD, fresh)), OptionalInt.of(version));
            return fresh;
        } catch (CasConflictException another) {
            // another agent wrote it first (or this write landed and its answer was lost): read it
            return store.read(path).flatMap(x -> x.data().string(FIELD)).filter(s -> !s.isEmpty())
                    .orElseThrow(() -> new StoreException("no installation id at " + path + " after a check-and-set conflict"));
        } catch (StoreException lost) {
            if (!lost.outcomeUnknown()) throw lost;
            Optional<String> landed = store.read(path).flatMap(x -> x.data().string(FIELD)).filter(s -> !s.isEmpty());
            return landed.orElseThrow(() -> lost);
        }
    }
}
