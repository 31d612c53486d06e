package io.keyward.rotation;

import java.io.IOException;

/** The plug-in points the rotation core calls; implementations live in other packages or in tests. */
public final class Plugins {

    private Plugins() {}

    /** Makes a new value for a field. */
    @FunctionalInterface
    public interface Generator {
        String generate() throws IOException;
    }

    /**
     * The system that owns a key. {@code issue} must return the same key when called twice with one
     * request id (keyward repeats it after a crash); {@code revoke} must be harmless to repeat.
     */
    public interface Issuer {
        String issue(String secretId, String requestId) throws IOException;

        /** Makes the issuer accept a value keyward generated; by default there is nothing to do. */
        default void accept(String secretId, String value) throws IOException {
        }

        void revoke(String secretId, String value) throws IOException;
    }

    /** Proves a new value works before it is promoted; throws {@link Rejected} when it does not. */
    @FunctionalInterface
    public interface Verifier {
        void verify(String secretId, SecretData value) throws IOException;
    }

    /** A consumer that receives values; delivering one version twice must be harmless. */
    public interface Target {
        String id();

        void deliver(String secretId, int version, SecretData value) throws IOException;
    }

    /** Called after each phase is journaled (metrics, and the crash tests' pause hook). */
    @FunctionalInterface
    public interface PhaseListener {
        void entered(String secretId, String rotationId, Phase phase);

        static PhaseListener none() {
            return (s, r, p) -> { };
        }
    }

    /** A definite "no" (not a transient failure): never retried. */
    public static final class Rejected extends IOException {
        public Rejected(String message) {
            super(message);
        }
    }
}
