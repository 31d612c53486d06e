package io.keyward.rotation;

import java.time.Instant;

/** How one call of the {@link Rotator} ended for one secret. */
public sealed interface Outcome {

    String secretId();

    /** One line for operators; never a value. */
    String describe();

    /** The new value is live, delivered everywhere, and the old one retired. */
    record Completed(String secretId, String rotationId, int fromVersion, int toVersion) implements Outcome {
        public String describe() {
            return secretId + ": rotated v" + fromVersion + " -> v" + toVersion + " (rotation " + rotationId + ")";
        }
    }

    /** Paused by design: waiting for the grace period, or for a target to recover. */
    record Waiting(String secretId, String rotationId, Phase phase, Instant until, String reason) implements Outcome {
        public String describe() {
            return secretId + ": rotation " + rotationId + " " + phase.word() + ", " + reason + " (next step at " + until + ")";
        }
    }

    /** The new value was discarded (and revoked where it had been issued); the old one stays live. */
    record RolledBack(String secretId, String rotationId, String reason) implements Outcome {
        public String describe() {
            return secretId + ": rotation " + rotationId + " rolled back: " + reason;
        }
    }

    /** Nothing was done: not due, or another agent owns the rotation. */
    record Skipped(String secretId, String reason) implements Outcome {
        public String describe() {
            return secretId + ": skipped, " + reason;
        }
    }

    /** A manually issued key is due: a person was asked for the new one; keyward looks again at {@code recheck}. */
    record AwaitingPerson(String secretId, Instant due, Instant recheck, String reason) implements Outcome {
        public String describe() {
            return secretId + ": " + reason;
        }
    }

    /** Stopped part-way (store unreachable, lease lost); the journal lets any agent resume it. */
    record Stopped(String secretId, String rotationId, Phase phase, String reason) implements Outcome {
        public String describe() {
            return secretId + ": rotation " + rotationId + " stopped at " + phase.word() + ": " + reason;
        }
    }

    default boolean failed() {
        return this instanceof RolledBack || this instanceof Stopped;
    }
}
