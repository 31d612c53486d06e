package io.keyward.rotation;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/** What the store knows about a secret besides its values: versions and operator metadata. */
public record SecretMetadata(
        SecretPath path,
        int currentVersion,
        int oldestVersion,
        Instant created,
        Instant updated,
        int maxVersions,
        boolean casRequired,
        SortedMap<Integer, VersionState> versions,
        Map<String, String> customMetadata) {

    public SecretMetadata {
        versions = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(versions));
        customMetadata = Map.copyOf(customMetadata);
    }

    /** The state of one version: deleted versions have a deletion time; destroyed ones are gone for good. */
    public record VersionState(Instant created, Optional<Instant> deleted, boolean destroyed) {
        public boolean readable() {
            return deleted.isEmpty() && !destroyed;
        }
    }

    public Optional<VersionState> version(int v) {
        return Optional.ofNullable(versions.get(v));
    }
}
