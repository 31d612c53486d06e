package io.keyward.target;

import io.keyward.rotation.Plugins;
import io.keyward.rotation.SecretData;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one application with secrets in its environment (never on its command line) and restarts
 * it when one of them gets a new version: the stop signal, up to {@code stopTimeout} for it to
 * exit (then SIGKILL), then the new process. A delivery is acknowledged only once the new process
 * has stayed up for {@code minUptime}; if it exits before, the previous values are started again
 * and the delivery fails, so the old key is not retired. Values changed together (within
 * {@code settle}) cause one restart. When the application exits on its own, {@code exited} gets
 * its exit code (128 + the signal when a signal ended it).
 */
public final class Supervisor implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Supervisor.class);
    /** How long a delivery waits for every variable to have a value before it fails. */
    private static final Duration FIRST_VALUES = Duration.ofSeconds(60);

    /** One environment variable and where its value comes from. */
    public record Variable(String name, String secretId, String field) {}

    /** How the application is run. {@code env} is the environment it gets besides the variables. */
    public record Settings(List<String> argv, Map<String, String> env, List<Variable> variables, String stopSignal,
                           Duration stopTimeout, Duration minUptime, Duration settle) {
        public Settings {
            argv = List.copyOf(argv);
            env = Map.copyOf(env);
            variables = List.copyOf(variables);
            if (argv.isEmpty()) throw new IllegalArgumentException("no program to run");
        }
    }

    /**
     * One pass of the restart loop: the requests it served, why it failed (null: it did not), and
     * whether the application was given the values but did not stay up (not tried again at once).
     */
    private record Pass(long from, long upTo, String failure, boolean unhealthy) {}

    private final Settings settings;
    private final IntConsumer exited;
    private final Map<String, String> wanted = new LinkedHashMap<>();
    private final Deque<Pass> passes = new ArrayDeque<>();
    private final Thread loop;
    private Map<String, String> running = Map.of();
    private Process child;
    private long requested;
    private long served;
    private boolean stopping;
    private boolean closed;
    private long incompleteSince;

    public Supervisor(Settings settings, IntConsumer exited) {
        this.settings = settings;
        this.exited = exited;
        this.loop = new Thread(this::run, "keyward-supervisor");
        loop.setDaemon(true);
        loop.start();
    }

    /** The target of one secret: delivering a version gives its fields to the application. */
    public Plugins.Target target(String secretId) {
        List<Variable> mine = settings.variables().stream().filter(v -> v.secretId().equals(secretId)).toList();
        return new Plugins.Target() {
            @Override
            public String id() {
                return "process";
            }

            @Override
            public void deliver(String id, int version, SecretData value) throws IOException {
                Map<String, String> values = new LinkedHashMap<>();
                for (Variable v : mine) {
                    values.put(v.name(), value.string(v.field()).filter(s -> !s.isEmpty()).orElseThrow(() -> new Plugins.Rejected(
                            "field '" + v.field() + "' of " + id + " v" + version + " is empty or missing: not given to "
                                    + settings.argv().get(0) + " as " + v.name())));
                }
                give(values, id + " v" + version);
            }

            @Override
            public Optional<Boolean> holds(String id, int version, SecretData value) {
                synchronized (Supervisor.this) {
                    if (child == null || !child.isAlive()) return Optional.of(false);
                    for (Variable v : mine) {
                        if (!value.string(v.field()).equals(Optional.ofNullable(running.get(v.name())))) return Optional.of(false);
                    }
                    return Optional.of(true);
                }
            }

            @Override
            public String address() {
                return "supervised " + String.join(" ", settings.argv());
            }

            @Override
            public String toString() {
                return "Supervisor.Target[" + secretId + " -> " + settings.argv().get(0) + "]";
            }
        };
    }

    /** Waits until a process holding these values has stayed up, or says why none did. */
    private synchronized void give(Map<String, String> values, String what) throws IOException {
        if (stopping || closed) throw new IOException(what + ": keyward is stopping, " + settings.argv().get(0) + " is not restarted");
        wanted.putAll(values);
        long mine = ++requested;
        notifyAll();
        while (served < mine && !closed) {
            try {
                wait();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while restarting " + settings.argv().get(0));
            }
        }
        for (Pass p : passes) {
            if (p.from() <= mine && mine <= p.upTo()) {
                if (p.failure() == null) return;
                String why = what + ": " + p.failure();
                throw p.unhealthy() ? new Plugins.Unhealthy(why) : new IOException(why);
            }
        }
        throw new IOException(what + ": " + (closed ? "keyward is stopping, " + settings.argv().get(0) + " was not restarted"
                : "the outcome of its restart is no longer known"));
    }

    /** The pid of the application while it runs. */
    public synchronized Optional<Long> pid() {
        return child != null && child.isAlive() ? Optional.of(child.pid()) : Optional.empty();
    }

    /** Sends a signal (HUP, USR1, ...) to the application, as keyward received it. */
    public synchronized void signal(String name) {
        if (child != null && child.isAlive()) kill(child, name);
    }

    /**
     * Stops the application with {@code signal} (its stop timeout, then SIGKILL) and returns its
     * exit code; -1 when none runs.
     */
    public int stop(String signal) {
        Process p;
        synchronized (this) {
            stopping = true;
            p = child;
        }
        if (p == null) return -1;
        return end(p, signal);
    }

    private void run() {
        while (true) {
            long from;
            long upTo;
            Map<String, String> next;
            Map<String, String> before;
            Process old;
            synchronized (this) {
                while (served == requested && !closed) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                if (closed) return;
            }
            sleep(settings.settle());
            synchronized (this) {
                if (closed || stopping) {
                    if (served < requested) finish(served + 1, requested, "keyward is stopping, " + settings.argv().get(0) + " was not restarted", false);
                    return;
                }
                from = served + 1;
                upTo = requested;
                List<String> missing = settings.variables().stream().map(Variable::name).filter(n -> !wanted.containsKey(n)).toList();
                if (!missing.isEmpty()) {
                    if (incompleteSince == 0) incompleteSince = System.nanoTime();
                    if (System.nanoTime() - incompleteSince < FIRST_VALUES.toNanos()) {
                        sleepLocked(Duration.ofMillis(200));
                        continue;
                    }
                    finish(from, upTo, "no value yet for " + String.join(", ", missing) + " (their secrets have no version in Vault?)",
                            false);
                    continue;
                }
                next = Map.copyOf(wanted);
                before = running;
                old = child;
                if (old != null && old.isAlive() && next.equals(running)) {
                    finish(from, upTo, null, false);
                    continue;
                }
            }
            if (old != null && old.isAlive()) {
                LOG.info("restarting {} (pid {}) with new values: SIG{}, up to {} s to stop", settings.argv().get(0), old.pid(),
                        settings.stopSignal(), settings.stopTimeout().toSeconds());
                end(old, settings.stopSignal());
            }
            String failure = startAndWatch(next);
            if (failure != null && !before.isEmpty()) {
                LOG.warn("{}; starting it again with the values it had", failure);
                String again = startAndWatch(before);
                if (again != null) LOG.error("{} with the values it had, too", again);
            }
            Process dead = null;
            synchronized (this) {
                finish(from, upTo, failure == null ? null : before.isEmpty() ? failure
                        : failure + "; it runs with the values it had, the old key stays valid", failure != null);
                if (child != null && !child.isAlive() && !stopping && !closed) {
                    dead = child;
                    stopping = true; // keyward ends with it: nothing is started again
                }
            }
            if (dead != null) { // it could not be started, nor started again with the values it had
                LOG.error("{} is not running (exit {})", settings.argv().get(0), dead.exitValue());
                exited.accept(dead.exitValue());
            }
        }
    }

    /** Starts the application with these values; null once it stayed up for minUptime, else why not. */
    private String startAndWatch(Map<String, String> values) {
        ProcessBuilder pb = new ProcessBuilder(settings.argv()).inheritIO();
        Map<String, String> env = pb.environment();
        env.clear();
        env.putAll(settings.env());
        env.putAll(values);
        Process p;
        synchronized (this) {
            if (stopping || closed) return "keyward is stopping";
            try {
                p = pb.start();
            } catch (IOException e) {
                return "cannot start " + settings.argv().get(0) + ": " + e.getMessage();
            }
            child = p;
        }
        LOG.info("started {} (pid {})", settings.argv().get(0), p.pid());
        p.onExit().thenAccept(this::ended);
        try {
            if (p.waitFor(settings.minUptime().toMillis(), TimeUnit.MILLISECONDS)) {
                return settings.argv().get(0) + " exited with " + p.exitValue() + " within "
                        + settings.minUptime().toSeconds() + " s of its start";
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
        synchronized (this) {
            running = Map.copyOf(values); // what the application has run with since it proved itself
        }
        return null;
    }

    /** An application process ended: when it is the current one and nobody stopped it, keyward ends with it. */
    private void ended(Process p) {
        boolean own;
        synchronized (this) {
            own = p == child && !stopping && !closed && served == requested;
        }
        if (own) {
            LOG.info("{} (pid {}) exited with {}", settings.argv().get(0), p.pid(), p.exitValue());
            synchronized (this) {
                stopping = true; // keyward ends with it: nothing is started again
            }
            exited.accept(p.exitValue());
        }
    }

    private int end(Process p, String signal) {
        kill(p, signal);
        try {
            if (!p.waitFor(settings.stopTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.warn("{} (pid {}) did not exit within {} s of SIG{}: SIGKILL", settings.argv().get(0), p.pid(),
                        settings.stopTimeout().toSeconds(), signal);
                p.destroyForcibly();
                p.waitFor();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
        }
        return p.isAlive() ? -1 : p.exitValue();
    }

    private static void kill(Process p, String signal) {
        if (signal.equals("TERM")) {
            p.destroy();
            return;
        }
        try {
            new ProcessBuilder("kill", "-s", signal, Long.toString(p.pid())).inheritIO().start().waitFor();
        } catch (IOException e) {
            LOG.warn("cannot send SIG{} to pid {}: {}", signal, p.pid(), e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void finish(long from, long upTo, String failure, boolean unhealthy) {
        passes.addLast(new Pass(from, upTo, failure, unhealthy));
        while (passes.size() > 64) passes.removeFirst();
        served = upTo;
        if (failure == null) incompleteSince = 0;
        notifyAll();
    }

    private void sleepLocked(Duration d) {
        try {
            wait(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops the restart loop (the application, if still running, is left to {@link #stop}). */
    @Override
    public synchronized void close() {
        closed = true;
        notifyAll();
        loop.interrupt();
    }

    @Override
    public String toString() {
        return "Supervisor[" + settings.argv().get(0) + ", " + settings.variables().size() + " variables]";
    }
}
