package io.keyward.rotation;

/**
 * A check-and-set write found another version than expected: someone else changed the secret.
 * Never retried blindly; the caller decides.
 */
public final class CasConflictException extends StoreException {

    private final SecretPath path;
    private final int expectedVersion;

    public CasConflictException(SecretPath path, int expectedVersion, String detail) {
        super("check-and-set conflict on " + path + ": expected version " + expectedVersion
                + (expectedVersion == 0 ? " (secret absent)" : "") + " but the secret has changed"
                + (detail == null ? "" : " (" + detail + ")"));
        this.path = path;
        this.expectedVersion = expectedVersion;
    }

    public SecretPath path() {
        return path;
    }

    public int expectedVersion() {
        return expectedVersion;
    }
}
