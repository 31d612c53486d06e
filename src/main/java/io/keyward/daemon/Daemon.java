package io.keyward.daemon;

import io.keyward.metrics.HealthServer;
import io.keyward.metrics.Metrics;
import io.keyward.policy.ConfigException;
import io.keyward.policy.Policy;
import io.keyward.rotation.Ledger;
import io.keyward.rotation.Outcome;
import io.keyward.rotation.Plugins;
import io.keyward.rotation.SecretBinding;
import io.keyward.rotation.StoreException;
import io.keyward.schedule.RotationScheduler;
import io.keyward.vault.VaultClient;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.quartz.SchedulerException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * keyward as a service. Start order: policy, metrics listener, Vault login (waited for as long
 * as Vault is down: {@link VaultWait}), recovery of every rotation left in flight, schedule, then
 * READY=1 to systemd. SIGHUP reloads the policy (an invalid one is rejected and the last good one
 * stays); SIGTERM and SIGINT stop it: no new step starts, the step in progress finishes and is
 * journaled, then the process exits.
 */
public final class Daemon implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Daemon.class);
    /** Longest a readiness answer about Vault is reused, so probes do not hammer it. */
    private static final Duration VAULT_CHECK_EVERY = Duration.ofSeconds(5);

    /** After an early READY, until the scheduler runs. */
    private volatile boolean starting;
    /** Why the service stops on its own (null: it was asked to). */
    private volatile String failure;
    private final AgentConfig config;
    private final Path policyFile;
    private final Clock clock;
    private final SystemdNotify systemd;
    private final Metrics metrics;
    private final Agent agent;
    private final RotationScheduler scheduler;
    private final Map<String, String> env;
    private volatile Optional<HealthServer> http = Optional.empty();
    private final ScheduledExecutorService timers;
    private final ExecutorService reloads;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final AtomicInteger recovered = new AtomicInteger();
    private volatile Instant policySince;
    private volatile String lastReloadProblem;
    private volatile VaultCheck vaultCheck = new VaultCheck(Instant.EPOCH, Optional.empty());
    private boolean closed;

    private record VaultCheck(Instant at, Optional<String> problem) {}

    /**
     * What {@code keyward exec} changes in the service: the policy it serves (made from the file
     * at start and at each reload), its targets, and whether the service handles SIGHUP, SIGTERM
     * and SIGINT itself (a supervisor passes them to its application instead).
     */
    public record Shape(java.util.function.UnaryOperator<Policy> policy,
                        java.util.function.BiFunction<String, Plugins.Target, Plugins.Target> targets, boolean signals) {
        /** {@code keyward run}: the policy file as it is, its own targets, its own signals. */
        public static final Shape RUN = new Shape(p -> p, (s, t) -> t, true);
    }

    private final Shape shape;
    private final LiveKeys liveKeys;

    private Daemon(AgentConfig config, Path policyFile, Map<String, String> env, Clock clock, SystemdNotify systemd,
                   Metrics metrics, Agent agent, RotationScheduler scheduler, Shape shape, LiveKeys liveKeys) {
        this.shape = shape;
        this.liveKeys = liveKeys;
        this.env = env;
        this.config = config;
        this.policyFile = policyFile;
        this.clock = clock;
        this.systemd = systemd;
        this.metrics = metrics;
        this.agent = agent;
        this.scheduler = scheduler;
        this.timers = Executors.newSingleThreadScheduledExecutor(r -> thread(r, "keyward-watchdog"));
        this.reloads = Executors.newSingleThreadExecutor(r -> thread(r, "keyward-reload"));
        this.policySince = clock.instant();
    }

    /**
     * Starts the service and returns when it is READY. {@code extra} is an additional phase
     * listener (the crash tests' pause hook).
     */
    public static Daemon start(AgentConfig config, Path policyFile, Map<String, String> env, Clock clock,
                               Plugins.PhaseListener extra) throws IOException, ConfigException {
        return start(config, policyFile, env, clock, extra, Shape.RUN);
    }

    /** {@link #start(AgentConfig, Path, Map, Clock, Plugins.PhaseListener)} in another shape ({@code keyward exec}). */
    public static Daemon start(AgentConfig config, Path policyFile, Map<String, String> env, Clock clock,
                               Plugins.PhaseListener extra, Shape shape) throws IOException, ConfigException {
        SystemdNotify systemd = SystemdNotify.from(env);
        systemd.send(SystemdNotify.status("loading the policy"));
        Policy policy = shape.policy().apply(Policy.load(policyFile));
        Metrics metrics = new Metrics(clock);
        Plugins.PhaseListener phases = metrics.phases();
        LiveKeys liveKeys = new LiveKeys(clock, metrics);
        Agent.Hooks hooks = new Agent.Hooks((s, r, p) -> {
            phases.entered(s, r, p);
            extra.entered(s, r, p);
        }, metrics::audit, (s, t) -> metrics.target(s, shape.targets().apply(s, t), liveKeys::deliveryFailed),
                metrics::verifier, metrics.notices());
        systemd.send(SystemdNotify.status("logging in to Vault at " + config.vault().address()));
        VaultWait wait = new VaultWait(config, systemd, env, clock, io.keyward.rotation.Sleeper.system(),
                () -> ThreadLocalRandom.current().nextDouble());
        java.util.concurrent.atomic.AtomicReference<java.util.function.Supplier<List<String>>> readiness =
                new java.util.concurrent.atomic.AtomicReference<>(wait::notReady);
        Optional<HealthServer> http = Optional.empty();
        Agent agent;
        try {
            if (config.metrics().isPresent()) {
                InetSocketAddress at = config.metrics().get();
                http = Optional.of(HealthServer.start(new InetSocketAddress(at.getHostString(), at.getPort()), metrics,
                        () -> readiness.get().get()));
            }
            Ledger ledger = Agent.ledger(config);
            agent = wait.connect(() -> Agent.start(config, policy, clock, hooks, env, ledger), policy, ledger);
        } catch (IOException | RuntimeException e) {
            http.ifPresent(HealthServer::close);
            systemd.close();
            throw e;
        }
        VaultClient vault = agent.vault();
        metrics.tokenTtl(() -> vault.token().expiresAt());
        metrics.policyLoaded(true);
        RotationScheduler scheduler = null;
        Daemon daemon = null;
        try {
            scheduler = new RotationScheduler(agent.rotator(), clock, () -> ThreadLocalRandom.current().nextDouble(),
                    config.agentId(), config.threads(), observer(metrics));
            daemon = new Daemon(config, policyFile, env, clock, systemd, metrics, agent, scheduler, shape, liveKeys);
            daemon.http = http;
            readiness.set(daemon::notReady);
            systemd.send(SystemdNotify.status("registering as a member of the fleet"));
            Optional<io.keyward.fleet.Members.Record> before;
            try {
                before = wait.until(agent::registerService, policy, agent.ledger());
            } catch (io.keyward.rotation.StoreException e) {
                throw new IOException("cannot register agent " + config.agentId() + " as a member of the fleet: "
                        + e.getMessage(), e);
            }
            systemd.send(SystemdNotify.status("recovering rotations left in flight"));
            daemon.recover(agent.bindings(), wait);
            Map<String, SecretBinding> bindings = agent.bindings();
            Optional<String> early = wait.readySent() ? Optional.empty()
                    : inPlace(before, clock.instant(), config.memberTimeout(), missing(policy, agent));
            if (early.isPresent()) {
                // The targets hold keys no agent can have retired: READY now, the first look at Vault right after.
                LOG.info("{}: READY before the first look at Vault", early.get());
                daemon.starting = true;
                daemon.ready("; READY before the first look at Vault (targets in place)");
                Daemon started = daemon;
                Thread first = new Thread(started::firstLook, "keyward-first-look");
                first.setDaemon(true);
                first.start();
                return daemon;
            }
            systemd.send(SystemdNotify.status("writing what every target lacks"));
            daemon.render(bindings);
            scheduler.start(bindings, firstRunsSpread(bindings.size()));
            daemon.ready();
            return daemon;
        } catch (IOException | SchedulerException | RuntimeException e) {
            http.ifPresent(HealthServer::close);
            if (scheduler != null) {
                try {
                    scheduler.close();
                } catch (SchedulerException ignored) {
                    // already failing
                }
            }
            agent.close();
            systemd.close();
            if (e instanceof IOException io) throw io;
            if (e instanceof RuntimeException r) throw r;
            throw new IOException("cannot start the scheduler: " + e.getMessage(), e);
        }
    }

    /**
     * Why READY may go out before Vault is read (empty when it may not): every target of the
     * policy is delivered on this host and in place ({@code missing} empty), and this agent's own
     * membership record shows it away for less than {@code fleet.member_timeout}, so the fleet
     * counted it all along and no rotation can have retired a key its targets hold.
     */
    static Optional<String> inPlace(Optional<io.keyward.fleet.Members.Record> before, Instant now, Duration memberTimeout,
                                    Optional<String> missing) {
        if (before.isEmpty() || missing.isPresent() || !before.get().live(now, memberTimeout)) return Optional.empty();
        return Optional.of("every target holds what was last delivered, and this agent was away "
                + Duration.between(before.get().heartbeat(), now).toSeconds() + " s (less than fleet.member_timeout "
                + memberTimeout.toMinutes() + "m)");
    }

    /** What the ledger does not show in place for this Vault (see {@link VaultWait#missing}). */
    private static Optional<String> missing(Policy policy, Agent agent) {
        try {
            return VaultWait.missing(policy, agent.ledger(), agent.rotator().installation());
        } catch (io.keyward.rotation.StoreException e) {
            return Optional.of("this Vault's installation id cannot be read (" + e.getMessage() + ")");
        }
    }

    /**
     * After an early READY: starts the schedule (with the bindings in force: a reload may have come
     * first), then writes what every target lacks, as {@link #render} does before READY otherwise.
     */
    private void firstLook() {
        Map<String, SecretBinding> bindings;
        try {
            synchronized (this) {
                bindings = agent.bindings();
                scheduler.start(bindings, firstRunsSpread(bindings.size()));
            }
        } catch (SchedulerException | RuntimeException e) {
            failure = "cannot start the scheduler: " + e.getMessage();
            LOG.error("{}", failure, e);
            stop(); // the service ends with an error, and systemd starts it again
            return;
        } finally {
            starting = false;
        }
        try {
            render(bindings);
        } catch (IOException | RuntimeException e) {
            LOG.warn("the first look at Vault after READY failed (the schedule tries each secret again): {}", e.getMessage());
        }
    }

    /** Spreads the first runs of a large policy (5 ms per secret, at most a minute). */
    static Duration firstRunsSpread(int secrets) {
        return Duration.ofMillis(Math.min(60_000L, 5L * secrets));
    }

    /**
     * Finishes or rolls back every rotation left in flight (by this agent, or by one whose lease
     * ran out): those with an in-flight marker, found with one LIST, their journals read in
     * parallel. A rotation waiting for its grace period stays waiting; the schedule picks it up
     * when the wait ends. (A journal left active by a keyward without markers is resumed by the
     * secret's first scheduled run.)
     */
    private void recover(Map<String, SecretBinding> bindings, VaultWait wait) throws IOException {
        List<String> marked;
        try {
            marked = wait.until(agent.rotator()::inFlight, agent.policy(), agent.ledger());
        } catch (io.keyward.rotation.StoreException e) {
            throw new IOException("cannot list the rotations in flight: " + e.getMessage(), e);
        }
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(4, config.threads() * 2), r -> thread(r, "keyward-recover"));
        try {
            List<Future<Outcome>> all = new ArrayList<>();
            for (String id : marked) {
                SecretBinding b = bindings.get(id);
                if (b == null) {
                    LOG.warn("a rotation of {} is in flight, but the policy no longer has that secret; it stays as it is", id);
                    continue;
                }
                all.add(pool.submit(() -> agent.rotator().resume(b)));
            }
            int count = 0;
            for (Future<Outcome> f : all) {
                Outcome o = f.get();
                if (o instanceof Outcome.NothingInFlight) {
                    agent.rotator().forgetInFlight(o.secretId());
                    continue;
                }
                count++;
                if (o.failed()) LOG.warn("recovery: {}", o.describe());
                else LOG.info("recovery: {}", o.describe());
            }
            recovered.set(count);
            if (count > 0) LOG.info("recovered {} rotation{} left in flight", count, count == 1 ? "" : "s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while recovering rotations in flight", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IOException("recovery failed: " + e.getCause(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Before READY every target holds the live version: what the ledger shows missing, or a file
     * deleted, emptied or edited by hand, is written (and its reload run); targets that are
     * current are left alone. The way Vault Agent renders at start.
     */
    private void render(Map<String, SecretBinding> bindings) throws IOException {
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(16, config.threads() * 2), r -> thread(r, "keyward-render"));
        try {
            List<Future<Outcome>> all = new ArrayList<>();
            for (SecretBinding b : bindings.values()) {
                if (!b.targets().isEmpty()) all.add(pool.submit(() -> agent.rotator().sync(b)));
            }
            int written = 0;
            int failed = 0;
            for (Future<Outcome> f : all) {
                Outcome o = f.get();
                if (o instanceof Outcome.Delivered || o instanceof Outcome.Repaired || o instanceof Outcome.Completed) {
                    written++;
                    LOG.info("start: {}", o.describe());
                } else if (o.failed() || o instanceof Outcome.Undelivered) {
                    failed++;
                    LOG.warn("start: {}", o.describe());
                }
            }
            LOG.info("start: {} of {} secrets written to their targets, {} current, {} failing", written, all.size(),
                    all.size() - written - failed, failed);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while writing the targets", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IOException("writing the targets failed: " + e.getCause(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    private void ready() {
        ready("");
    }

    /** READY=1; {@code note} (may be empty) is added to the status line. */
    private void ready(String note) {
        Map<String, SecretBinding> b = agent.bindings();
        systemd.send("READY=1", SystemdNotify.status(summary() + note));
        LOG.info("keyward {} ready: {} secrets from {}, agent {}", Agent.version(), b.size(), policyFile, config.agentId());
        classArchiveUsable();
        watchdog(env);
        heartbeats();
        liveKeys.start(agent, scheduler, timers);
        if (shape.signals()) installSignals();
    }

    /**
     * The launcher keeps the class-data archive this run writes at its exit only from a run that got
     * to READY ({@code -Dkeyward.cds.ready} names the file that says so): one stopped by a bad
     * configuration loaded too few classes to be worth starting from.
     */
    private static void classArchiveUsable() {
        String marker = System.getProperty("keyward.cds.ready");
        if (marker == null || marker.isEmpty()) return;
        try {
            java.nio.file.Files.writeString(java.nio.file.Path.of(marker), "");
        } catch (IOException | RuntimeException e) {
            LOG.debug("could not mark the class-data archive usable at {}: {}", marker, e.toString());
        }
    }

    /** Renews this agent's membership record every {@code fleet.heartbeat}, so that others count it as live. */
    private void heartbeats() {
        long every = config.fleet().heartbeat().toMillis();
        timers.scheduleWithFixedDelay(() -> {
            try {
                agent.members().heartbeat();
                int live = 0;
                int silent = 0;
                Instant now = clock.instant();
                for (io.keyward.fleet.Members.Record r : agent.members().all()) {
                    if (r.live(now, config.memberTimeout())) live++;
                    else silent++;
                }
                metrics.members(live, silent);
            } catch (io.keyward.rotation.StoreException | RuntimeException e) {
                LOG.warn("could not renew the membership record of {}: {}", config.agentId(), e.getMessage());
            }
        }, 0, every, TimeUnit.MILLISECONDS);
    }

    /** WATCHDOG=1 at half of WatchdogSec, only while the scheduler runs. */
    void watchdog(Map<String, String> env) {
        SystemdNotify.watchdogEvery(env).ifPresent(every -> timers.scheduleAtFixedRate(() -> {
            if (schedulerRunning() || starting) systemd.send("WATCHDOG=1");
            else LOG.warn("scheduler not running: withholding the watchdog ping");
        }, 0, TimeUnit.NANOSECONDS.toMicros(every.toNanos()), TimeUnit.MICROSECONDS));
    }

    private void installSignals() {
        signal("HUP", () -> reloads.submit(this::reload));
        signal("TERM", stopped::countDown);
        signal("INT", stopped::countDown);
    }

    /** Runs {@code action} on SIG{@code name}; a signal that cannot be handled here, or was ignored, is a warning. */
    public static void signal(String name, Runnable action) {
        try {
            sun.misc.SignalHandler before = sun.misc.Signal.handle(new sun.misc.Signal(name), s -> action.run());
            if (before == sun.misc.SignalHandler.SIG_IGN) {
                LOG.warn("SIG{} was ignored by the process that started keyward, so keyward cannot act on it", name);
            }
        } catch (IllegalArgumentException e) {
            LOG.warn("cannot handle SIG{} here: {}", name, e.getMessage());
        }
    }

    /** Reads the policy file again; a valid policy replaces the one in force, an invalid one is refused. */
    public synchronized boolean reload() {
        systemd.send("RELOADING=1", "MONOTONIC_USEC=" + System.nanoTime() / 1000, SystemdNotify.status("reloading the policy"));
        boolean ok;
        try {
            Policy next = shape.policy().apply(Policy.load(policyFile));
            Map<String, SecretBinding> bindings = agent.reload(next);
            scheduler.reschedule(bindings);
            try {
                agent.registerService();
            } catch (io.keyward.rotation.StoreException e) {
                LOG.warn("could not update the membership record of {}: {}", config.agentId(), e.getMessage());
            }
            metrics.policyLoaded(false);
            policySince = clock.instant();
            lastReloadProblem = null;
            LOG.info("policy reloaded from {}: {} secrets", policyFile, bindings.size());
            ok = true;
        } catch (ConfigException e) {
            metrics.policyRejected();
            lastReloadProblem = "policy reload rejected at " + clock.instant();
            LOG.error("policy reload rejected; the policy loaded at {} stays in force:\n{}", policySince, e.getMessage());
            ok = false;
        } catch (SchedulerException | RuntimeException e) {
            metrics.policyRejected();
            lastReloadProblem = "policy reload failed at " + clock.instant();
            LOG.error("policy reload failed; the policy loaded at {} stays in force", policySince, e);
            ok = false;
        }
        systemd.send("READY=1", SystemdNotify.status(summary()));
        return ok;
    }

    /** Blocks until SIGTERM or SIGINT (or {@link #stop()}). */
    public void awaitStop() throws InterruptedException, IOException {
        stopped.await();
        String why = failure;
        if (why != null) throw new IOException(why);
    }

    public void stop() {
        stopped.countDown();
    }

    /** Why the agent is not ready (empty when it is): Vault, its token, the scheduler (a policy is loaded from the start). */
    public List<String> notReady() {
        List<String> reasons = new ArrayList<>();
        VaultCheck check = vaultCheck;
        Instant now = clock.instant();
        if (Duration.between(check.at(), now).compareTo(VAULT_CHECK_EVERY) >= 0) {
            check = new VaultCheck(now, agent.vault().reachable());
            vaultCheck = check;
        }
        check.problem().ifPresent(reasons::add);
        agent.vault().token().expiresAt().filter(t -> !t.isAfter(now))
                .ifPresent(t -> reasons.add("Vault token expired at " + t));
        if (!schedulerRunning()) reasons.add(starting ? "scheduler starting" : "scheduler not running");
        return reasons;
    }

    private boolean schedulerRunning() {
        try {
            return scheduler.running();
        } catch (SchedulerException e) {
            return false;
        }
    }

    /** The one-line STATUS= text. */
    String summary() {
        int secrets = agent.bindings().size();
        String s = secrets + " secret" + (secrets == 1 ? "" : "s") + ", " + scheduler.runs() + " runs, "
                + scheduler.failures() + " failed";
        if (recovered.get() > 0) s += ", " + recovered.get() + " recovered";
        return lastReloadProblem == null ? s : s + "; " + lastReloadProblem;
    }

    public Agent agent() {
        return agent;
    }

    public Metrics metrics() {
        return metrics;
    }

    public Optional<Integer> metricsPort() {
        return http.map(HealthServer::port);
    }

    /** Stops taking new steps, waits for the one in progress, then closes everything. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        systemd.send("STOPPING=1", SystemdNotify.status("stopping: finishing the step in progress"));
        LOG.info("stopping: finishing the step in progress");
        agent.rotator().stop();
        timers.shutdownNow();
        try {
            agent.members().stopped();
        } catch (io.keyward.rotation.StoreException | RuntimeException e) {
            LOG.warn("could not mark the membership record of {} stopped: {}", config.agentId(), e.getMessage());
        }
        reloads.shutdownNow();
        try {
            scheduler.close();
        } catch (SchedulerException e) {
            LOG.warn("scheduler did not stop cleanly: {}", e.getMessage());
        }
        http.ifPresent(HealthServer::close);
        agent.close();
        LOG.info("stopped");
        systemd.close();
    }

    private static RotationScheduler.Observer observer(Metrics m) {
        return new RotationScheduler.Observer() {
            @Override
            public void scheduled(String secretId, Instant at) {
                m.scheduled(secretId, at);
            }

            @Override
            public void state(String secretId, Optional<Instant> lastRotated, Instant due) {
                m.state(secretId, lastRotated, due);
            }

            @Override
            public void finished(String secretId, Outcome outcome, Duration took) {
                m.finished(secretId, outcome, took);
            }

            @Override
            public void synced(String secretId, Outcome outcome) {
                m.synced(secretId, outcome);
            }

            @Override
            public void removed(String secretId) {
                m.removed(secretId);
            }
        };
    }

    private static Thread thread(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }
}
