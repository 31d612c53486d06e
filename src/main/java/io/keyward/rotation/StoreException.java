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
}
