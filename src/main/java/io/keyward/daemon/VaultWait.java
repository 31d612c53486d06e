package io.keyward.daemon;

import io.keyward.policy.Policy;
import io.keyward.rotation.Ledger;
import io.keyward.rotation.Retrier;
import io.keyward.rotation.Sleeper;
import io.keyward.rotation.StoreException;
import io.keyward.vault.VaultAccessException;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logging in at start for as long as Vault takes to answer: a Vault that is down, sealed or
 * unreachable is tried again with jittered exponential backoff (1 s doubling to 60 s), said in
 * STATUS= and /readyz, and never ends the process. Only what waiting cannot mend (a denied login,
 * a TLS or configuration error) is thrown.
 *
 * <p>READY while waiting: when the local ledger shows every target of the policy delivered (and
 * each file target present), the targets hold what was last delivered and the services ordered
 * after keyward can start, so READY=1 is sent at once. Otherwise READY waits for Vault, and the
 * start timeout is extended at each try so that systemd does not give up.
 */
final class VaultWait {

    private static final Logger LOG = LoggerFactory.getLogger(VaultWait.class);
    static final Retrier.Backoff BACKOFF = new Retrier.Backoff(Integer.MAX_VALUE, Duration.ofSeconds(1), Duration.ofSeconds(60));

    /** One try at logging in and building the agent. */
    @FunctionalInterface
    interface Attempt {
        Agent start() throws IOException;
    }

    /** One try at a call of the start that needs Vault (registering as a member, say). */
    @FunctionalInterface
    interface Call<T> {
        T run() throws IOException, StoreException;
    }

    private final AgentConfig config;
    private final SystemdNotify systemd;
    private final Clock clock;
    private final Sleeper sleeper;
    private final DoubleSupplier random;
    private final Optional<Duration> watchdog;
    private volatile String waiting;
    private volatile boolean readySent;

    VaultWait(AgentConfig config, SystemdNotify systemd, Map<String, String> env, Clock clock, Sleeper sleeper,
              DoubleSupplier random) {
        this.config = config;
        this.systemd = systemd;
        this.clock = clock;
        this.sleeper = sleeper;
        this.random = random;
        this.watchdog = SystemdNotify.watchdogEvery(env);
    }

    /** Why keyward is not ready while it waits for Vault (empty once it stopped waiting). */
    List<String> notReady() {
        String w = waiting;
        return w == null ? List.of() : List.of(w);
    }

    /** True when READY=1 went out while waiting, because the targets were in place. */
    boolean readySent() {
        return readySent;
    }

    /** Tries {@code attempt} until Vault answers; throws only failures that waiting cannot mend. */
    Agent connect(Attempt attempt, Policy policy, Ledger ledger) throws IOException {
        try {
            return until(attempt::start, policy, ledger);
        } catch (StoreException e) {
            throw new IOException(e.getMessage(), e); // never: an attempt throws no other StoreException
        }
    }

    /**
     * Tries {@code call} until Vault answers it: a Vault that is down, sealed, or a cluster electing
     * its leader (a standby's redirect to a node that does not answer, a 5xx) is waited for; what
     * waiting cannot mend (denied, not found, a bad answer) is thrown.
     */
    <T> T until(Call<T> call, Policy policy, Ledger ledger) throws IOException, StoreException {
        Instant since = null;
        for (int n = 1; ; n++) {
            try {
                T done = call.run();
                if (since != null) LOG.info("Vault at {} answers again after {} s", config.vault().address(),
                        Duration.between(since, clock.instant()).toSeconds());
                waiting = null;
                return done;
            } catch (VaultAccessException e) {
                if (!e.retryable()) throw e;
                if (since == null) since = clock.instant();
                Duration pause = BACKOFF.delay(n, random.getAsDouble());
                String next = "try " + n + ", next in " + Math.max(1, pause.toSeconds()) + " s";
                waiting = "waiting for Vault at " + config.vault().address() + " since " + since + " (" + next + "): "
                        + e.getMessage();
                LOG.warn("{}", waiting);
                tell(policy, ledger, pause, "Vault unreachable: " + cause(e) + "; " + next);
                pauseFor(pause);
            }
        }
    }

    /** STATUS= (and READY=1 or a longer start timeout) while waiting; {@code why} is short, for the status line. */
    private void tell(Policy policy, Ledger ledger, Duration pause, String why) {
        String inPlace = "targets hold what was last delivered; " + why;
        if (readySent) {
            systemd.send(SystemdNotify.status(inPlace));
            return;
        }
        Optional<String> missing = missing(policy, ledger, null);
        if (missing.isEmpty()) {
            readySent = true;
            LOG.info("every target holds what was last delivered: READY while waiting for Vault");
            systemd.send("READY=1", SystemdNotify.status(inPlace));
        } else {
            long usec = TimeUnit.MILLISECONDS.toMicros(pause.plus(Duration.ofMinutes(2)).toMillis());
            systemd.send("EXTEND_TIMEOUT_USEC=" + usec, SystemdNotify.status(why + "; not ready: " + missing.get()));
        }
    }

    /** The cause of a failed login without the operation, address and hints around it. */
    private static String cause(VaultAccessException e) {
        String m = e.getMessage();
        int at = m.indexOf(" failed: ");
        String c = at < 0 ? m : m.substring(at + " failed: ".length());
        int hint = c.indexOf(" (");
        return hint > 0 ? c.substring(0, hint) : c;
    }

    /** Waits in steps short enough to keep the watchdog fed once READY went out. */
    private void pauseFor(Duration pause) throws IOException {
        Duration left = pause;
        Duration step = watchdog.filter(w -> readySent).orElse(pause);
        try {
            while (left.compareTo(Duration.ZERO) > 0) {
                Duration d = left.compareTo(step) < 0 ? left : step;
                sleeper.sleep(d);
                left = left.minus(d);
                if (readySent && watchdog.isPresent()) systemd.send("WATCHDOG=1");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for Vault", e);
        }
    }

    /**
     * What the ledger does not show in place: a target never delivered, an entry written against
     * another Vault than {@code vault} (its installation id; null while Vault cannot be asked: then
     * every entry must name one and the same Vault), or a file target whose file is gone or empty.
     * Empty when everything is in place.
     */
    static Optional<String> missing(Policy policy, Ledger ledger, String vault) {
        String expected = vault;
        for (Policy.SecretPolicy s : policy.secrets()) {
            if (s.targets().isEmpty()) continue;
            Ledger.Entry entry;
            try {
                entry = ledger.get(s.id());
            } catch (IOException e) {
                return Optional.of("the local ledger of " + s.id() + " cannot be read (" + e.getMessage() + ")");
            }
            for (Policy.TargetSpec t : s.targets()) {
                if (entry.version(t.id()) <= 0) {
                    return Optional.of("target " + t.id() + " of " + s.id() + " was never delivered on this host");
                }
                if (t instanceof Policy.TargetSpec.File f && !nonEmpty(f)) {
                    return Optional.of("file " + f.path() + " (target " + t.id() + " of " + s.id() + ") is missing or empty");
                }
            }
            if (expected == null) expected = entry.vault();
            if (expected == null || !expected.equals(entry.vault())) {
                return Optional.of("the local ledger of " + s.id() + " was not written against " + (vault == null
                        ? "the Vault the other entries name" : "this Vault"));
            }
        }
        return Optional.empty();
    }

    private static boolean nonEmpty(Policy.TargetSpec.File f) {
        try {
            return Files.size(f.path()) > 0;
        } catch (IOException e) {
            return false;
        }
    }
}
