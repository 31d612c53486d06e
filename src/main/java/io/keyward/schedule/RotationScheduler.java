package io.keyward.schedule;

import io.keyward.rotation.Outcome;
import io.keyward.rotation.Rotator;
import io.keyward.rotation.SecretBinding;
import io.keyward.rotation.StoreException;
import java.time.Clock;
import java.time.Instant;
import java.util.Date;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.DoubleSupplier;
import org.quartz.DisallowConcurrentExecution;
import org.quartz.Job;
import org.quartz.JobBuilder;
import org.quartz.JobDetail;
import org.quartz.JobExecutionContext;
import org.quartz.JobKey;
import org.quartz.Scheduler;
import org.quartz.SchedulerException;
import org.quartz.SimpleScheduleBuilder;
import org.quartz.Trigger;
import org.quartz.TriggerBuilder;
import org.quartz.TriggerKey;
import org.quartz.impl.StdSchedulerFactory;
import org.quartz.spi.JobFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Quartz with its in-memory store: one job per secret, never two runs of one secret at once.
 * After each run the job computes its next start (schedule, window, jitter, or the end of a wait)
 * and reschedules itself. {@link #reschedule} takes a new policy without a restart.
 */
public final class RotationScheduler implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RotationScheduler.class);
    private static final String GROUP = "keyward";
    /** Prefix of a watch trigger's name; a rotation trigger is named by the secret id alone (ids hold no colon). */
    private static final String WATCH = "watch:";

    private final Rotator rotator;
    private final Clock clock;
    private final DoubleSupplier random;
    private final String agentId;
    private final Scheduler quartz;
    private final Map<String, SecretBinding> bindings = new ConcurrentHashMap<>();
    private final AtomicLong runs = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private final Observer observer;

    /** What the scheduler tells the daemon (metrics): planned runs, the live value's age, outcomes. */
    public interface Observer {
        /** The secret's job runs next at {@code at}. */
        default void scheduled(String secretId, Instant at) {}

        /** The live value was written at {@code lastRotated} (empty: not yet) and is due at {@code due}. */
        default void state(String secretId, Optional<Instant> lastRotated, Instant due) {}

        /** A rotation run ended so (after {@code took}). */
        default void finished(String secretId, Outcome outcome, java.time.Duration took) {}

        /** A watch run ended so. */
        default void synced(String secretId, Outcome outcome) {}

        /** The secret left the policy. */
        default void removed(String secretId) {}

        static Observer none() {
            return new Observer() { };
        }
    }

    public RotationScheduler(Rotator rotator, Clock clock, DoubleSupplier random, String agentId, int threads)
            throws SchedulerException {
        this(rotator, clock, random, agentId, threads, Observer.none());
    }

    public RotationScheduler(Rotator rotator, Clock clock, DoubleSupplier random, String agentId, int threads,
                             Observer observer) throws SchedulerException {
        this.observer = observer;
        this.rotator = rotator;
        this.clock = clock;
        this.random = random;
        this.agentId = agentId;
        Properties p = new Properties();
        p.setProperty("org.quartz.scheduler.instanceName", "keyward-" + System.identityHashCode(this));
        p.setProperty("org.quartz.scheduler.skipUpdateCheck", "true");
        p.setProperty("org.quartz.threadPool.threadCount", String.valueOf(threads));
        p.setProperty("org.quartz.threadPool.threadNamePrefix", "keyward-rotation");
        p.setProperty("org.quartz.jobStore.class", "org.quartz.simpl.RAMJobStore");
        p.setProperty("org.quartz.jobStore.misfireThreshold", "5000");
        this.quartz = new StdSchedulerFactory(p).getScheduler();
        this.quartz.setJobFactory(factory());
    }

    /** Schedules every secret and starts running jobs. */
    public void start(Map<String, SecretBinding> initial) throws SchedulerException {
        reschedule(initial);
        quartz.start();
    }

    /**
     * Starts without reading any state first: each secret's first run (which reads its state,
     * rotates it if due and plans the next) is spread at random over {@code spread}, so that a large
     * policy neither delays the start nor sends every read to Vault at once.
     */
    public synchronized void start(Map<String, SecretBinding> initial, java.time.Duration spread) throws SchedulerException {
        bindings.putAll(initial);
        for (SecretBinding b : initial.values()) {
            schedule(b.id(), clock.instant().plusMillis((long) (spread.toMillis() * random.getAsDouble())));
            watch(b);
        }
        LOG.info("scheduled {} secret{}; first runs within {}", initial.size(), initial.size() == 1 ? "" : "s", spread);
        quartz.start();
    }

    /** Replaces the set of secrets: new ones are scheduled, removed ones unscheduled, all recomputed. */
    public synchronized void reschedule(Map<String, SecretBinding> next) throws SchedulerException {
        Set<String> gone = new HashSet<>(bindings.keySet());
        gone.removeAll(next.keySet());
        for (String id : gone) {
            quartz.deleteJob(JobKey.jobKey(id, GROUP));
            bindings.remove(id);
            observer.removed(id);
        }
        bindings.putAll(next);
        for (SecretBinding b : next.values()) {
            schedule(b.id(), firstRun(b));
            watch(b);
        }
        LOG.info("scheduled {} secret{} ({} removed)", next.size(), next.size() == 1 ? "" : "s", gone.size());
    }

    /** When a secret's job fires next, if it is scheduled. */
    public Optional<Instant> nextRun(String secretId) throws SchedulerException {
        Trigger t = quartz.getTrigger(TriggerKey.triggerKey(secretId, GROUP));
        return t == null || t.getNextFireTime() == null ? Optional.empty() : Optional.of(t.getNextFireTime().toInstant());
    }

    public boolean running() throws SchedulerException {
        return quartz.isStarted() && !quartz.isShutdown() && !quartz.isInStandbyMode();
    }

    public long runs() {
        return runs.get();
    }

    public long failures() {
        return failures.get();
    }

    /** Stops taking new runs and waits for the ones in progress to finish their step. */
    @Override
    public void close() throws SchedulerException {
        quartz.shutdown(true);
    }

    private Instant firstRun(SecretBinding b) {
        try {
            Optional<Instant> last = rotator.lastRotated(b);
            return plan(b, last, rotator.journal(b.id()).map(io.keyward.rotation.Journal.Journaled::entry));
        } catch (StoreException e) {
            LOG.warn("cannot read the state of {} yet ({}); trying it now", b.id(), e.getMessage());
            return clock.instant();
        }
    }

    /** The next run from what is known of the secret (when it was last written, its last journal entry); sets its gauges. */
    private Instant plan(SecretBinding b, Optional<Instant> last, Optional<io.keyward.rotation.JournalEntry> journal) {
        observer.state(b.id(), last, last.map(t -> b.policy().schedule().due(t)).orElse(clock.instant()));
        return NextRun.after(b, journal, last, clock.instant(), random.getAsDouble(), agentId);
    }

    /** One run of a secret's job; catches everything so that the scheduler carries on. */
    void run(String secretId) {
        SecretBinding b = bindings.get(secretId);
        if (b == null) return;
        runs.incrementAndGet();
        Instant next;
        Instant started = clock.instant();
        try {
            Outcome o = rotator.rotate(b, false, false, "schedule");
            observer.finished(secretId, o, java.time.Duration.between(started, clock.instant()));
            if (o.failed()) {
                failures.incrementAndGet();
                LOG.warn("{}", o.describe());
            } else if (!(o instanceof Outcome.NotDue)) {
                LOG.info("{}", o.describe());
            }
            next = NextRun.afterOutcome(b, o, clock.instant())
                    .orElseGet(() -> o instanceof Outcome.NotDue n ? plan(b, n.lastRotated(), n.journal()) : firstRun(b));
        } catch (RuntimeException e) {
            failures.incrementAndGet();
            LOG.error("rotation run of {} failed unexpectedly; trying again later", secretId, e);
            next = clock.instant().plus(b.policy().retry().max().plusSeconds(5));
        }
        try {
            if (bindings.containsKey(secretId)) schedule(secretId, next);
        } catch (SchedulerException e) {
            LOG.error("cannot schedule the next run of {}", secretId, e);
        }
    }

    /**
     * The secret's watch: at its interval (the first one soon after start, spread by the random
     * fraction) the same job delivers a version someone else wrote in Vault. It shares the job, so
     * it never runs beside a rotation of the same secret.
     */
    private void watch(SecretBinding b) throws SchedulerException {
        TriggerKey key = TriggerKey.triggerKey(WATCH + b.id(), GROUP);
        if (b.policy().watch().isEmpty()) {
            quartz.unscheduleJob(key);
            return;
        }
        long every = b.policy().watch().get().toMillis();
        Trigger t = TriggerBuilder.newTrigger().withIdentity(key).forJob(JobKey.jobKey(b.id(), GROUP))
                .startAt(Date.from(clock.instant().plusMillis((long) (Math.min(every, 10_000) * random.getAsDouble()))))
                .withSchedule(SimpleScheduleBuilder.simpleSchedule().withIntervalInMilliseconds(every).repeatForever()
                        .withMisfireHandlingInstructionNextWithRemainingCount())
                .build();
        if (quartz.getTrigger(key) != null) quartz.rescheduleJob(key, t);
        else quartz.scheduleJob(t);
    }

    /**
     * Runs the secret's watch now, once (beside its interval, never beside another run of the
     * secret): a new version someone is waiting for is delivered without waiting for the watch.
     */
    public synchronized void watchNow(String secretId) throws SchedulerException {
        if (!bindings.containsKey(secretId)) return;
        TriggerKey key = TriggerKey.triggerKey(WATCH + secretId + "-now", GROUP);
        Trigger t = TriggerBuilder.newTrigger().withIdentity(key).forJob(JobKey.jobKey(secretId, GROUP)).startNow()
                .withSchedule(SimpleScheduleBuilder.simpleSchedule().withMisfireHandlingInstructionFireNow()).build();
        if (quartz.getTrigger(key) != null) quartz.rescheduleJob(key, t);
        else quartz.scheduleJob(t);
    }

    /** One watch run: delivers the live version if it is not delivered yet. */
    void sync(String secretId) {
        SecretBinding b = bindings.get(secretId);
        if (b == null) return;
        try {
            Outcome o = rotator.sync(b);
            observer.synced(secretId, o);
            if (o.failed() || o instanceof Outcome.Undelivered) {
                failures.incrementAndGet();
                LOG.warn("{}", o.describe());
            } else if (!(o instanceof Outcome.UpToDate || o instanceof Outcome.Skipped || o instanceof Outcome.Refused)) {
                LOG.info("{}", o.describe());
            }
        } catch (RuntimeException e) {
            failures.incrementAndGet();
            LOG.error("watch of {} failed unexpectedly; trying again at its next interval", secretId, e);
        }
    }

    private void schedule(String secretId, Instant at) throws SchedulerException {
        observer.scheduled(secretId, at);
        JobKey key = JobKey.jobKey(secretId, GROUP);
        Trigger trigger = TriggerBuilder.newTrigger().withIdentity(secretId, GROUP).forJob(key)
                .startAt(Date.from(at.equals(Instant.MAX) ? clock.instant().plusSeconds(365L * 86400) : at))
                .withSchedule(SimpleScheduleBuilder.simpleSchedule().withMisfireHandlingInstructionFireNow())
                .build();
        if (quartz.checkExists(key)) {
            if (quartz.getTrigger(trigger.getKey()) != null) {
                quartz.rescheduleJob(trigger.getKey(), trigger);
            } else {
                quartz.scheduleJob(trigger);
            }
        } else {
            JobDetail job = JobBuilder.newJob(RotationJob.class).withIdentity(key).storeDurably().build();
            quartz.addJob(job, true);
            quartz.scheduleJob(trigger);
        }
    }

    private JobFactory factory() {
        return (bundle, scheduler) -> new RotationJob(this);
    }

    /** The Quartz job of one secret; gets its scheduler from the {@link JobFactory}. */
    @DisallowConcurrentExecution
    static final class RotationJob implements Job {
        private final RotationScheduler owner;

        RotationJob(RotationScheduler owner) {
            this.owner = owner;
        }

        @Override
        public void execute(JobExecutionContext context) {
            // The job is named by its secret and the trigger by what it runs: no job data map per
            // trigger and job, which at 10,000 secrets held about 5 MB.
            String secret = context.getJobDetail().getKey().getName();
            if (context.getTrigger().getKey().getName().startsWith(WATCH)) owner.sync(secret);
            else owner.run(secret);
        }
    }
}
