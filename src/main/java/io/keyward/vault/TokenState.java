package io.keyward.vault;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/** The token in use: its accessor (the only part that may be shown), TTL and when it was obtained or renewed. */
record TokenState(String token, String accessor, Duration ttl, boolean renewable, Instant since, boolean viaLogin) {

    /** When the token stops working, or empty for a token without TTL (a root token). */
    Optional<Instant> expiresAt() {
        return ttl.isZero() ? Optional.empty() : Optional.of(since.plus(ttl));
    }

    TokenState renewed(Duration newTtl, Instant at) {
        return new TokenState(token, accessor, newTtl, renewable, at, viaLogin);
    }

    @Override
    public String toString() {
        return "TokenState[accessor=" + accessor + ", ttl=" + ttl + ", renewable=" + renewable + ", since=" + since + "]";
    }
}
