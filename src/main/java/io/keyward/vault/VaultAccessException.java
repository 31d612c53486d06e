package io.keyward.vault;

import io.keyward.rotation.StoreException;

/**
 * A Vault call failed. The message names the operation, the address, the path, the HTTP status
 * and Vault's own error text; it never holds a token or a secret value.
 */
public final class VaultAccessException extends StoreException {

    private final String operation;
    private final String path;
    private final int status;
    private final boolean retryable;
    private final boolean neverSent;
    private final boolean answerLost;

    VaultAccessException(String operation, String address, String path, int status, String detail,
                         boolean retryable, Throwable cause) {
        this(operation, address, path, status, detail, retryable, false, false, cause);
    }

    VaultAccessException(String operation, String address, String path, int status, String detail,
                         boolean retryable, boolean neverSent, boolean answerLost, Throwable cause) {
        super("Vault " + operation + " of " + path + " at " + address + " failed: "
                + (status > 0 ? "HTTP " + status + (detail.isEmpty() ? "" : ": " + detail) : detail)
                + (status == 403 ? denied(operation, path) : ""), cause);
        this.operation = operation;
        this.path = path;
        this.status = status;
        this.retryable = retryable;
        this.neverSent = neverSent;
        this.answerLost = answerLost;
    }

    /** For a denied call: the capability it needed there, and where the whole policy comes from. */
    private static String denied(String operation, String path) {
        String needs = switch (operation) {
            case "read", "metadata read", "mount lookup", "token lookup" -> "'read'";
            case "write" -> "'create' and 'update'";
            case "metadata write", "capabilities lookup", "token renewal" -> "'update'";
            case "list" -> "'list'";
            case "delete" -> path.contains("/delete/") ? "'update'" : "'delete'"; // deleting versions is an update of delete/
            default -> "";
        };
        return needs.isEmpty() ? "" : " (the token needs " + needs + " on " + path
                + "; keyward vault-policy prints the Vault policy keyward needs)";
    }

    /** True when the request may have reached Vault but no answer came (a timeout, a reset, a closed connection). */
    @Override
    public boolean outcomeUnknown() {
        return answerLost;
    }

    /** True when no connection was made, so the request certainly did not reach Vault. */
    boolean neverSent() {
        return neverSent;
    }

    public String operation() {
        return operation;
    }

    public String path() {
        return path;
    }

    /** The HTTP status, or 0 when Vault could not be reached at all. */
    public int status() {
        return status;
    }

    /** True for failures that may pass when repeated: unreachable, timeouts, 412, 429, 5xx. */
    public boolean retryable() {
        return retryable;
    }

    public boolean denied() {
        return status == 403 || status == 401;
    }
}
