package io.keyward.rotation;

/** The version asked for was deleted or destroyed: it must never be delivered. */
public final class VersionGoneException extends StoreException {

    private final SecretPath path;
    private final int version;
    private final boolean destroyed;

    public VersionGoneException(SecretPath path, int version, boolean destroyed) {
        super("version " + version + " of " + path + " was " + (destroyed ? "destroyed" : "deleted"));
        this.path = path;
        this.version = version;
        this.destroyed = destroyed;
    }

    public SecretPath path() {
        return path;
    }

    public int version() {
        return version;
    }

    public boolean destroyed() {
        return destroyed;
    }
}
