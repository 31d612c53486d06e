package io.keyward.rotation;

import io.keyward.policy.Policy;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/** The plug-in points the rotation core calls; implementations live in other packages or in tests. */
public final class Plugins {

    private Plugins() {}

    /** Makes a new value for a field. */
    @FunctionalInterface
    public interface Generator {
        String generate() throws IOException;
    }

    /** Where the owner of a key tells when it was last used: an old key used recently is still held by someone. */
    public interface Usage {
        /** When the value was last seen used, where the system can tell. */
        default Optional<Instant> lastUsed(String secretId, String value) throws IOException {
            return Optional.empty();
        }

        /** An old value used more recently than this is still in use and is not retired. */
        default Duration quiet() {
            return Duration.ZERO;
        }
    }

    /**
     * The system that owns a key. {@code issue} must return the same key when called twice with one
     * request id (keyward repeats it after a crash); {@code revoke} must be harmless to repeat.
     */
    public interface Issuer extends Usage {
        String issue(String secretId, String requestId) throws IOException;

        /** Makes the issuer accept a value keyward generated. */
        default void accept(String secretId, String value) throws IOException {
        }

        void revoke(String secretId, String value) throws IOException;
    }

    /**
     * Keys a person makes and revokes (DocBits' settings page): keyward announces when one is due,
     * takes the new one, and reports when the old one may be revoked; it can tell when the issuer
     * refuses a key.
     */
    public interface ManualKeys extends Usage {
        /** How long before a key is due keyward announces it. */
        Duration notice();

        /** True when the issuer is seen to refuse the value (revoked); false when it accepts it or cannot tell. */
        boolean refuses(String secretId, String value) throws IOException;

        /**
         * True for an account with one key that a person regenerates: the old key dies when the new
         * one is made, so there is no overlap to protect and every consumer is broken until it has the
         * new key.
         */
        default boolean singleKey() {
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

        /**
         * Whether the target still holds exactly what delivering this value writes, where keyward
         * can read it back (a file); empty when it cannot tell. A file deleted or edited by hand
         * answers false, and is written again.
         */
        default Optional<Boolean> holds(String secretId, int version, SecretData value) throws IOException {
            return Optional.empty();
        }

        /** True for a target that makes a consumer load what the others wrote (a reload command): run again after a repair. */
        default boolean reloads() {
            return false;
        }

        /**
         * Where the target delivers (a file's path, a webhook's URL, a command line), never a value:
         * a delivery the ledger recorded for another address is no evidence for this one.
         */
        default String address() {
            return id();
        }

        /**
         * True when holding the value is all its consumer needs (a plain file, read as it is), so
         * that reading it back ({@link #holds}) proves a delivery whoever wrote it. False where more
         * must have happened (a reload, a health check that passed): then this agent's own record of
         * the delivery is needed as well.
         */
        default boolean readBackSuffices() {
            return false;
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
    public record Notice(Policy.NoticeKind kind, String secretId, String rotationId, int version, String detail) {
        public Notice {
            java.util.Objects.requireNonNull(kind, "kind");
        }

        /** The kind as written in logs, metrics and notifications ("due", "failed", ...). */
        public String word() {
            return kind.name().toLowerCase(java.util.Locale.ROOT);
        }
    }

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
        private final boolean keyRefused;

        public Unhealthy(String message) {
            this(message, false);
        }

        /** {@code keyRefused}: the check's last answer was HTTP 401, the consumer's key is not taken. */
        public Unhealthy(String message, boolean keyRefused) {
            super(message);
            this.keyRefused = keyRefused;
        }

        public boolean keyRefused() {
            return keyRefused;
        }
    }

    /** A definite "no" (not a transient failure): never retried. */
    public static class Rejected extends IOException {
        public Rejected(String message) {
            super(message);
        }
    }
}
