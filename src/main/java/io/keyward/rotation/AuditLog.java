package io.keyward.rotation;

/**
 * Receives audit events. Implementations must never throw and never block for long:
 * an audit hook cannot fail or stall a rotation.
 */
@FunctionalInterface
public interface AuditLog {

    void record(AuditEvent event);

    /** An audit log that drops everything; for tools that only read. */
    static AuditLog none() {
        return e -> { };
    }
}
