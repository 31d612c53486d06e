package io.keyward.rotation;

import java.time.Instant;
import java.util.Objects;

/**
 * One version of a secret as read from the store, with the secret's custom metadata where the
 * store returns it with the value (KV v2 does).
 */
public record VersionedSecret(SecretPath path, int version, SecretData data, Instant created,
                              java.util.Map<String, String> customMetadata) {
    public VersionedSecret {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(created, "created");
        customMetadata = java.util.Map.copyOf(customMetadata);
        if (version < 1) throw new IllegalArgumentException("version must be 1 or more, was " + version);
    }

    public VersionedSecret(SecretPath path, int version, SecretData data, Instant created) {
        this(path, version, data, created, java.util.Map.of());
    }
}
