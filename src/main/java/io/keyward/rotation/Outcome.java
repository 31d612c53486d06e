package io.keyward.rotation;

import java.time.Instant;
import java.util.Optional;

/** How one call of the {@link Rotator} ended for one secret; each case says what it is, no text to parse. */
public sealed interface Outcome {

    String secretId();

    /** One line for operators; never a value. */
    String describe();

    /** The new value is live, delivered to every live member's targets, and the old one retired. */
    record Completed(String secretId, String rotationId, int fromVersion, int toVersion,
                     java.util.Optional<java.time.Duration> outage) implements Outcome {
        public Completed(String secretId, String rotationId, int fromVersion, int toVersion) {
            this(secretId, rotationId, fromVersion, toVersion, java.util.Optional.empty());
        }

        public String describe() {
            return secretId + ": rotated v" + fromVersion + " -> v" + toVersion + " (rotation " + rotationId + ")"
                    + outage.map(d -> "; consumers were without a working key for " + Outage.format(d)).orElse("");
        }
    }

    /** A version was delivered to this agent's targets without a rotation (nothing to verify or retire). */
    record Delivered(String secretId, int version, int targets) implements Outcome {
        public String describe() {
            return secretId + ": v" + version + " delivered to " + targets + " target" + (targets == 1 ? "" : "s");
        }
    }

    /** Some of this agent's targets could not be given the live version; retried at {@code retry}. */
    record Undelivered(String secretId, int version, Instant retry, String reason) implements Outcome {
        public String describe() {
            return secretId + ": v" + version + " not delivered everywhere yet, " + reason + " (again at " + retry + ")";
        }
    }

    /** Targets that no longer held the live version (a file deleted or edited by hand) were written again. */
    record Repaired(String secretId, int version, java.util.List<String> targets) implements Outcome {
        public Repaired {
            targets = java.util.List.copyOf(targets);
        }

        public String describe() {
            return secretId + ": v" + version + " written again to " + String.join(", ", targets) + " (changed by hand)";
        }
    }

    /** This agent's targets have the live version already. */
    record UpToDate(String secretId, int version) implements Outcome {
        public String describe() {
            return secretId + ": v" + version + " is delivered";
        }
    }

    /** Paused by design: waiting for the grace period, a target, other members, or a retry. */
    record Waiting(String secretId, String rotationId, Phase phase, Instant until, String reason) implements Outcome {
        public String describe() {
            return secretId + ": rotation " + rotationId + " " + phase.word() + ", " + reason + " (next step at " + until + ")";
        }
    }

    /** Waiting for other live members to acknowledge the new version on these targets ("agent/target"). */
    record AwaitingMembers(String secretId, String rotationId, Phase phase, Instant until, java.util.List<String> pending)
            implements Outcome {
        public AwaitingMembers {
            pending = java.util.List.copyOf(pending);
        }

        public String describe() {
            return secretId + ": rotation " + rotationId + " " + phase.word() + ", waiting for other members to take the"
                    + " new version: " + String.join(", ", pending) + " (next look at " + until + ")";
        }
    }

    /** The new value was discarded (and revoked where it had been issued); the old one stays live. */
    record RolledBack(String secretId, String rotationId, String reason) implements Outcome {
        public String describe() {
            return secretId + ": rotation " + rotationId + " rolled back: " + reason;
        }
    }

    /** The new value is live and delivered, but the old one could not be retired: a person must. */
    record NotRetired(String secretId, String rotationId, int oldVersion, String reason) implements Outcome {
        public String describe() {
            return secretId + ": rotation " + rotationId + " ended without retiring v" + oldVersion + ": " + reason;
        }
    }

    /** Not due yet by its schedule; looked at again at {@code next}. */
    /**
     * Not due yet. {@code lastRotated} and {@code journal} are what the check read (when the live
     * value was written, and the secret's last journal entry), so the next run can be planned from
     * them without reading them again.
     */
    record NotDue(String secretId, Instant due, Instant next, Optional<Instant> lastRotated,
                  Optional<JournalEntry> journal) implements Outcome {
        public String describe() {
            return secretId + ": not due until " + due + (next.equals(due) ? "" : " (looked at again from " + next + ")");
        }
    }

    /** Due, but outside its window: waits for it to open. */
    record OutsideWindow(String secretId, Instant opens) implements Outcome {
        public String describe() {
            return secretId + ": due, waiting for its window to open at " + opens;
        }
    }

    /** Earlier attempts rolled back: the next one waits (exponential backoff, capped, inside the window). */
    record BackingOff(String secretId, int attempts, Instant next, String lastError) implements Outcome {
        public String describe() {
            return secretId + ": " + attempts + " attempt" + (attempts == 1 ? "" : "s") + " rolled back, next at " + next
                    + (lastError == null ? "" : " (last: " + lastError + ")");
        }
    }

    /** Nothing is in flight: there was nothing to resume. */
    record NothingInFlight(String secretId) implements Outcome {
        public String describe() {
            return secretId + ": no rotation in flight";
        }
    }

    /** Another agent drives the rotation; this one delivered to its own targets if they lacked the version. */
    record InFlightElsewhere(String secretId, String rotationId, String owner, Instant until) implements Outcome {
        public String describe() {
            return secretId + ": rotation " + rotationId + " is in flight, owned by " + owner + " until " + until;
        }
    }

    /** A version written in Vault is not delivered (deleted, destroyed or refused by verification). */
    record Refused(String secretId, int version, String reason) implements Outcome {
        public String describe() {
            return secretId + ": v" + version + " " + reason;
        }
    }

    /** A manually issued key is due: a person was asked for the new one; keyward looks again at {@code recheck}. */
    record AwaitingPerson(String secretId, Instant due, Instant recheck, String reason) implements Outcome {
        public String describe() {
            return secretId + ": " + reason;
        }
    }

    /**
     * Not rotated: another live member serves the secret with another shared policy part (path,
     * generator or issuer, schedule, grace); looked at again at {@code next}.
     */
    record PolicyDiffers(String secretId, String member, Instant next) implements Outcome {
        public String describe() {
            return secretId + ": not rotated, member " + member + " serves it with another path, generator, issuer,"
                    + " schedule or grace; make the policies agree";
        }
    }

    /** Nothing was done, for the reason given (an empty submitted key, no value in Vault yet, ...). */
    record Skipped(String secretId, String reason) implements Outcome {
        public String describe() {
            return secretId + ": skipped, " + reason;
        }
    }

    /** Stopped part-way (store unreachable, lease lost, shutting down); the journal lets any agent resume it. */
    record Stopped(String secretId, String rotationId, Phase phase, String reason) implements Outcome {
        public String describe() {
            return secretId + ": rotation " + rotationId + " stopped at " + phase.word() + ": " + reason;
        }
    }

    /** Nothing could be done: the state could not be read (the store's error says why). */
    record Unavailable(String secretId, String reason) implements Outcome {
        public String describe() {
            return secretId + ": " + reason;
        }
    }

    default boolean failed() {
        return this instanceof RolledBack || this instanceof Stopped || this instanceof Unavailable
                || this instanceof NotRetired || this instanceof PolicyDiffers;
    }

    /** True while a rotation stays in flight after this call. */
    default boolean inFlight() {
        return this instanceof Waiting || this instanceof AwaitingMembers || this instanceof Stopped
                || this instanceof InFlightElsewhere;
    }
}
