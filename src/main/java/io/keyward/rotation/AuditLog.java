package io.keyward.rotation;

import java.util.Optional;

/**
 * Receives audit events. {@link #record} never throws and never blocks for long; a line the
 * audit file cannot take is held and written before the next one. {@link #announce} is for the
 * line of a step that is about to run: when it cannot be written the step must not run.
 */
@FunctionalInterface
public interface AuditLog {

    void record(AuditEvent event);

    /**
     * Writes the line of a step before the step runs (lines held back are written first); throws
     * when the audit file cannot take it, and then nothing of it is kept.
     */
    default void announce(AuditEvent event) throws AuditUnavailableException {
        record(event);
    }

    /** Why the audit file cannot take lines now (held lines are tried first), or empty when it can. */
    default Optional<String> blocked() {
        return Optional.empty();
    }

    /** An audit log that drops everything; for tools that only read. */
    static AuditLog none() {
        return e -> { };
    }
}
