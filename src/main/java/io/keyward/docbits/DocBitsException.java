package io.keyward.docbits;

import io.keyward.rotation.Retrier;
import java.io.IOException;
import java.time.Duration;
import java.util.Optional;

/** A DocBits call failed in a way that may pass on a repeat (429, 5xx, transport). Never holds a key. */
public final class DocBitsException extends IOException implements Retrier.HasRetryAfter {

    private final int status;
    private final Duration retryAfter;

    DocBitsException(String message, int status, Duration retryAfter) {
        super(message);
        this.status = status;
        this.retryAfter = retryAfter;
    }

    /** The HTTP status, or 0 when DocBits could not be reached. */
    public int status() {
        return status;
    }

    @Override
    public Optional<Duration> retryAfter() {
        return Optional.ofNullable(retryAfter);
    }
}
