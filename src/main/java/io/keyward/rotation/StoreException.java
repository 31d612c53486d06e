package io.keyward.rotation;

import java.io.IOException;

/** A secret store operation failed. The message names what and where, never a value or token. */
public class StoreException extends IOException {

    public StoreException(String message) {
        super(message);
    }

    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }

    /**
     * True when the request may have been carried out although no answer came back: what it did
     * can only be told by reading again.
     */
    public boolean outcomeUnknown() {
        return false;
    }
}
