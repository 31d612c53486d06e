package io.keyward.rotation;

import java.time.Instant;
import java.util.Objects;

/** One version of a secret as read from the store. */
public record VersionedSecret(SecretPath path, int version, SecretData data, Instant created) {
    public VersionedSecret {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(created, "created");
        if (version < 1) throw new IllegalArgumentException("version must be 1 or more, was " + version);
    }
}
