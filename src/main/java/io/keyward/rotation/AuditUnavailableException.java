package io.keyward.rotation;

/**
 * The audit file cannot take the line of a step, so the step does not run. It is a
 * {@link StoreException} because it stops a step where a failed Vault call would: the rotation
 * waits and is tried again, and the next try writes the lines held back first.
 */
public final class AuditUnavailableException extends StoreException {

    public AuditUnavailableException(String message) {
        super(message);
    }
}
