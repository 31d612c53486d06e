package io.keyward.vault;

import io.keyward.rotation.Retrier;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a valid token: renews it at about two thirds of its TTL, and logs in again when renewal
 * fails, the token is not renewable, or Vault stops extending it (its max TTL is near). Failed
 * logins are retried with jittered backoff.
 */
final class TokenKeeper implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(TokenKeeper.class);

    /** Audits and performs one token operation; supplied by {@link VaultClient}. */
    interface Operations {
        TokenState login() throws VaultAccessException;

        TokenState renew(TokenState current, Duration increment) throws VaultAccessException;
    }

    private final Operations ops;
    private final Retrier.Backoff backoff;
    private final DoubleSupplier random;
    private final ScheduledExecutorService timer;
    private volatile TokenState state;
    private Duration requestedTtl = Duration.ZERO;
    private boolean reloginNext;
    private int failures;
    private ScheduledFuture<?> pending;
    private volatile boolean closed;

    TokenKeeper(Operations ops, Retrier.Backoff backoff, DoubleSupplier random) {
        this.ops = ops;
        this.backoff = backoff;
        this.random = random;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "keyward-vault-token");
            t.setDaemon(true);
            return t;
        });
    }

    /** Logs in (retrying what may pass on a repeat) and starts the renewal timer. */
    synchronized TokenState start(Retrier retrier) throws VaultAccessException {
        try {
            TokenState s = retrier.call(ops::login, e -> e instanceof VaultAccessException v && v.retryable());
            adopt(s);
            return s;
        } catch (VaultAccessException e) {
            throw e;
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    TokenState current() {
        return state;
    }

    /** Logs in again now (after a denial that a lookup confirmed, or an expiry). */
    synchronized TokenState relogin() throws VaultAccessException {
        TokenState s = ops.login();
        adopt(s);
        return s;
    }

    /** The delay before the next renewal: two thirds of the remaining TTL, at least 100 ms. */
    static Duration renewDelay(Duration ttl) {
        return Duration.ofMillis(Math.max(100, ttl.toMillis() * 2 / 3));
    }

    /** Vault granted less than asked: the max TTL is near, so the next step is a fresh login. */
    static boolean maxTtlReached(Duration requested, Duration granted) {
        return granted.compareTo(requested) < 0;
    }

    private void adopt(TokenState s) {
        state = s;
        requestedTtl = s.ttl();
        reloginNext = !s.renewable();
        failures = 0;
        schedule(s.ttl().isZero() ? Optional.empty() : Optional.of(renewDelay(s.ttl())));
    }

    private synchronized void tick() {
        if (closed) return;
        TokenState s = state;
        try {
            if (reloginNext) {
                adopt(ops.login());
                LOG.info("vault token refreshed by a new login (accessor {}, ttl {}s)", state.accessor(),
                        state.ttl().toSeconds());
                return;
            }
            TokenState renewed = ops.renew(s, requestedTtl);
            state = renewed;
            failures = 0;
            if (maxTtlReached(requestedTtl, renewed.ttl())) {
                reloginNext = true;
                LOG.info("vault token near its max TTL ({}s left): next step is a new login",
                        renewed.ttl().toSeconds());
            }
            schedule(Optional.of(renewDelay(renewed.ttl())));
        } catch (VaultAccessException renewFailure) {
            if (!reloginNext) {
                LOG.warn("vault token renewal failed, logging in again: {}", renewFailure.getMessage());
                reloginNext = true;
                schedule(Optional.of(Duration.ZERO));
                return;
            }
            failures++;
            Duration wait = backoff.delay(Math.min(failures, 30), random.getAsDouble());
            if (wait.isZero()) wait = Duration.ofMillis(100);
            LOG.warn("vault login failed (attempt {}), trying again in {} ms: {}", failures, wait.toMillis(),
                    renewFailure.getMessage());
            schedule(Optional.of(wait));
        } catch (RuntimeException e) {
            LOG.error("vault token keeper failed unexpectedly; trying again", e);
            schedule(Optional.of(backoff.max()));
        }
    }

    private void schedule(Optional<Duration> delay) {
        if (pending != null) {
            pending.cancel(false);
            pending = null;
        }
        if (closed || delay.isEmpty()) return;
        pending = timer.schedule(this::tick, delay.get().toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        closed = true;
        timer.shutdownNow();
    }
}
