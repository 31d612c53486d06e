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

        /**
         * True when a person makes and revokes the keys (DocBits' settings page): keyward never calls
         * issue or revoke, it announces when a key is due and when the old one may be revoked.
         */
        default boolean manual() {
            return false;
        }

        /** How long before a manual key is due keyward announces it. */
        default java.time.Duration notice() {
            return java.time.Duration.ZERO;
        }

        /** When the issuer last saw the value used, where it can tell. */
        default java.util.Optional<java.time.Instant> lastUsed(String secretId, String value) throws IOException {
            return java.util.Optional.empty();
        }

        /** An old value used more recently than this is still in use and is not retired. */
        default java.time.Duration quiet() {
            return java.time.Duration.ZERO;
        }

        /** True when the issuer is seen to refuse the value (revoked); false when it accepts it or cannot tell. */
        default boolean refuses(String secretId, String value) throws IOException {
            return false;
        }
    }

    /** Proves a new value works before it is promoted; throws {@link Rejected} when it does not. */
    @FunctionalInterface
    public interface Verifier {
        void verify(String secretId, SecretData value) throws IOException;
    }

    /**
     * A consumer that receives values; delivering one version twice must be harmless. A delivery
     * whose health check fails throws {@link Unhealthy}.
     */
    public interface Target {
        String id();

        void deliver(String secretId, int version, SecretData value) throws IOException;

        /** True when the policy asks for the previous value back after a failed health check. */
        default boolean rollsBack() {
            return false;
        }

        /** Gives the target an earlier value back (no health check: the old value is what it had). */
        default void restore(String secretId, int version, SecretData value) throws IOException {
            deliver(secretId, version, value);
        }
    }

    /** What keyward announces to people: due keys, failures, revocable keys, emergencies. */
    @FunctionalInterface
    public interface Notifier {
        void announce(Notice notice);

        static Notifier none() {
            return n -> { };
        }
    }

    /** One announcement; {@code detail} never holds a secret value. */
    public record Notice(String kind, String secretId, String rotationId, int version, String detail) {}

    /** Called after each phase is journaled (metrics, and the crash tests' pause hook). */
    @FunctionalInterface
    public interface PhaseListener {
        void entered(String secretId, String rotationId, Phase phase);

        static PhaseListener none() {
            return (s, r, p) -> { };
        }
    }

    /** The value was delivered but the target's health check failed: not retried within the cycle. */
    public static final class Unhealthy extends IOException {
        public Unhealthy(String message) {
            super(message);
        }
    }

    /** A definite "no" (not a transient failure): never retried. */
    public static class Rejected extends IOException {
        public Rejected(String message) {
            super(message);
        }
    }
}
