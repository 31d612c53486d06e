package io.keyward.rotation;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/** Where secrets and keyward's own journal live: a versioned key/value store (Vault KV v2). */
public interface SecretStore {

    /** The newest version, or empty if the secret does not exist. Its newest version being deleted is a {@link VersionGoneException}. */
    Optional<VersionedSecret> read(SecretPath path) throws StoreException;

    /** A non-empty text field of the newest version (a key keyward calls or signs with), if there is one. */
    default Optional<String> text(SecretPath path, String field) throws StoreException {
        return read(path).flatMap(v -> v.data().string(field)).filter(s -> !s.isEmpty());
    }

    /** A given version, or empty if it never existed; a deleted or destroyed one is a {@link VersionGoneException}. */
    Optional<VersionedSecret> read(SecretPath path, int version) throws StoreException;

    /**
     * Writes a new version and returns its number. With {@code expectedVersion} present the write
     * only succeeds if the newest version is that one (0: the secret must not exist yet); otherwise
     * it throws {@link CasConflictException}.
     */
    int write(SecretPath path, SecretData data, OptionalInt expectedVersion) throws StoreException;

    /** The secret's metadata, or empty if it does not exist. */
    Optional<SecretMetadata> metadata(SecretPath path) throws StoreException;

    /** Replaces the operator-visible custom metadata (string keys and values). */
    void writeCustomMetadata(SecretPath path, Map<String, String> custom) throws StoreException;

    /** Names directly below {@code folder}; sub-folders end with "/". Empty if there is nothing. */
    List<String> list(SecretPath folder) throws StoreException;

    /** Soft-deletes versions (they can be undeleted in Vault; they are never delivered). */
    void deleteVersions(SecretPath path, Collection<Integer> versions) throws StoreException;

    /** Removes a secret with all its versions and metadata. */
    void deleteAll(SecretPath path) throws StoreException;
}
