package io.keyward.metrics;

import io.keyward.rotation.AuditEvent;
import io.keyward.rotation.AuditLog;
import io.keyward.rotation.AuditUnavailableException;
import io.keyward.policy.Policy;
import io.keyward.rotation.Outcome;
import io.keyward.rotation.Phase;
import io.keyward.rotation.Plugins;
import io.keyward.rotation.SecretData;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * keyward's meters, named by Prometheus conventions (base units, {@code _total} counters,
 * {@code _seconds}, {@code _timestamp_seconds}). Labels name secrets, targets, phases and
 * outcomes, never a value. Fed by the hooks the daemon wires in: the audit tee, the phase
 * listener, target and verifier wrappers, notices, and the scheduler's observations.
 */
public final class Metrics {

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Clock clock;
    private final Map<String, SecretGauges> secrets = new ConcurrentHashMap<>();
    private final Map<String, PhaseMark> phases = new ConcurrentHashMap<>();
    /** The rotations in flight: secret id to the phase it last reached here ("elsewhere" when another agent drives it). */
    private final Map<String, String> inFlight = new ConcurrentHashMap<>();
    private final AtomicLong lastSync = new AtomicLong();
    private final AtomicLong policyLoaded = new AtomicLong();
    private final Counter reloadFailures;
    private final Counter reloads;
    private final AtomicLong auditWritable = new AtomicLong(1);
    private final Counter stepsRefused;

    private record PhaseMark(Phase phase, Instant at) {}

    private final Map<String, java.util.concurrent.atomic.AtomicInteger> acksPending = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicInteger membersLive = new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.concurrent.atomic.AtomicInteger membersSilent = new java.util.concurrent.atomic.AtomicInteger();

    /** Per-secret values the gauges read; NaN until known. */
    private static final class SecretGauges {
        volatile double lastRotated = Double.NaN;
        volatile double due = Double.NaN;
        volatile double nextRun = Double.NaN;
        volatile double revocableSince = Double.NaN;
    }

    /** Deliveries to one target of one secret, by result. */
    private static final class DeliveryCounts {
        final java.util.concurrent.atomic.LongAdder ok = new java.util.concurrent.atomic.LongAdder();
        final java.util.concurrent.atomic.LongAdder failed = new java.util.concurrent.atomic.LongAdder();
    }

    /** secret id, then target id: what {@link PerSecret} reports as keyward_deliveries_total. */
    private final Map<String, Map<String, DeliveryCounts>> deliveries = new ConcurrentHashMap<>();

    public Metrics(Clock clock) {
        this.clock = clock;
        registry.getPrometheusRegistry().register(new PerSecret());
        reloadFailures = Counter.builder("keyward.policy.reload.failures")
                .description("Policy reloads rejected because the new policy was invalid").register(registry);
        reloads = Counter.builder("keyward.policy.reloads")
                .description("Policy reloads that took effect").register(registry);
        Gauge.builder("keyward.audit.writable", auditWritable, AtomicLong::get)
                .description("1 while the audit file takes lines; 0 while it does not and steps wait").register(registry);
        stepsRefused = Counter.builder("keyward.audit.steps.refused")
                .description("Steps that did not run because their audit line could not be written").register(registry);
        Gauge.builder("keyward.rotations.in.flight", inFlight, Map::size)
                .description("Rotations started and not yet retired or rolled back").register(registry);
        Gauge.builder("keyward.last.sync.success.timestamp", lastSync, a -> a.get() == 0 ? Double.NaN : a.get() / 1000.0)
                .description("When a watch run last ended without a failure").baseUnit("seconds").register(registry);
        Gauge.builder("keyward.policy.loaded.timestamp", policyLoaded, a -> a.get() / 1000.0)
                .description("When the policy in force was loaded").baseUnit("seconds").register(registry);
        Gauge.builder("keyward.secrets", secrets, Map::size).description("Secrets in the policy in force").register(registry);
        Gauge.builder("keyward.fleet.members", membersLive, java.util.concurrent.atomic.AtomicInteger::get)
                .description("Members of the fleet by state (live: heard of within fleet.member_timeout)")
                .tag("state", "live").register(registry);
        Gauge.builder("keyward.fleet.members", membersSilent, java.util.concurrent.atomic.AtomicInteger::get)
                .description("Members of the fleet by state (live: heard of within fleet.member_timeout)")
                .tag("state", "silent").register(registry);
        // Series that exist from the start, so that rates and alerts see a zero rather than nothing.
        for (String o : List.of("completed", "repaired", "waiting", "rolled_back", "not_retired", "awaiting_person",
                "backing_off", "policy_differs", "stopped", "skipped")) {
            rotations(o);
            syncs(o);
        }
        for (String kind : List.of("due", "failed", "degraded", "revocable", "emergency", "rejected", "dead")) notices(kind);
    }

    private Counter rotations(String outcome) {
        return Counter.builder("keyward.rotations").description("Rotation runs by outcome").tag("outcome", outcome)
                .register(registry);
    }

    private Counter syncs(String outcome) {
        return Counter.builder("keyward.syncs").description("Watch runs by outcome").tag("outcome", outcome)
                .register(registry);
    }

    private Counter notices(String kind) {
        return Counter.builder("keyward.notices").description("Announcements by kind").tag("kind", kind).register(registry);
    }

    /** Prometheus text exposition. */
    public String scrape() {
        return registry.scrape();
    }

    PrometheusMeterRegistry registry() {
        return registry;
    }

    /** The token's remaining time to live, read at each scrape; -1 for a token that never expires. */
    public void tokenTtl(Supplier<Optional<Instant>> expiresAt) {
        Gauge.builder("keyward.vault.token.ttl", () -> expiresAt.get()
                        .map(t -> Math.max(0, Duration.between(clock.instant(), t).toMillis()) / 1000.0).orElse(-1.0))
                .description("Seconds until the Vault token expires (-1: never)").baseUnit("seconds").register(registry);
    }

    // ---- policy

    public void policyLoaded(boolean initial) {
        policyLoaded.set(clock.millis());
        if (!initial) reloads.increment();
    }

    public void policyRejected() {
        reloadFailures.increment();
    }

    // ---- audit tee: Vault latency by operation

    /**
     * An audit log that also times every Vault call it records, and tells whether the audit file
     * takes lines: steps refused because it did not are counted.
     */
    public AuditLog audit(AuditLog inner) {
        return new AuditLog() {
            @Override
            public void record(AuditEvent event) {
                inner.record(event);
                observe(event);
            }

            @Override
            public void announce(AuditEvent event) throws AuditUnavailableException {
                try {
                    inner.announce(event);
                    auditWritable.set(1);
                } catch (AuditUnavailableException e) {
                    auditWritable.set(0);
                    stepsRefused.increment();
                    throw e;
                }
                observe(event);
            }

            @Override
            public java.util.Optional<String> blocked() {
                java.util.Optional<String> why = inner.blocked();
                auditWritable.set(why.isEmpty() ? 1 : 0);
                return why;
            }
        };
    }

    private void observe(AuditEvent event) {
        if (event.event().equals("target.drift")) {
            Counter.builder("keyward.target.drift").description("Targets found changed or missing, and written again")
                    .tags("secret", event.path(), "target", event.attributes().getOrDefault("target", "?"))
                    .register(registry).increment();
        }
        if (event.event().startsWith("vault.") && event.duration() != null) {
            Timer.builder("keyward.vault.request.duration").description("Vault requests by operation and outcome")
                    .tags("operation", event.event().substring("vault.".length()), "outcome", event.outcome().word())
                    .register(registry).record(event.duration());
        }
    }

    // ---- phases

    /** Times each phase from its start to the start of the next, and tracks rotations in flight. */
    public Plugins.PhaseListener phases() {
        return (secretId, rotationId, phase) -> {
            Instant now = clock.instant();
            PhaseMark before = phases.put(rotationId, new PhaseMark(phase, now));
            if (before != null) {
                Timer.builder("keyward.rotation.phase.duration").description("Time spent in each rotation phase")
                        .tag("phase", before.phase().word()).register(registry).record(Duration.between(before.at(), now));
            }
            if (phase.terminal()) {
                phases.remove(rotationId);
                inFlight.remove(secretId);
            } else {
                inFlight.put(secretId, phase.word());
            }
        };
    }

    // ---- targets and verifiers

    public Plugins.Target target(String secretId, Plugins.Target inner) {
        return target(secretId, inner, (secret, failure) -> {});
    }

    /** As {@link #target(String, Plugins.Target)}; {@code failed} also hears of each failed delivery. */
    public Plugins.Target target(String secretId, Plugins.Target inner,
                                 java.util.function.BiConsumer<String, IOException> failed) {
        DeliveryCounts counts = deliveries.computeIfAbsent(secretId, id -> new ConcurrentHashMap<>())
                .computeIfAbsent(inner.id(), id -> new DeliveryCounts());
        return new Plugins.Target() {
            @Override
            public String id() {
                return inner.id();
            }

            @Override
            public void deliver(String secret, int version, SecretData value) throws IOException {
                try {
                    inner.deliver(secret, version, value);
                    counts.ok.increment();
                } catch (IOException e) {
                    counts.failed.increment();
                    failed.accept(secret, e);
                    throw e;
                } catch (RuntimeException e) {
                    counts.failed.increment();
                    throw e;
                }
            }

            @Override
            public boolean rollsBack() {
                return inner.rollsBack();
            }

            @Override
            public void restore(String secret, int version, SecretData value) throws IOException {
                inner.restore(secret, version, value);
            }

            @Override
            public Optional<Boolean> holds(String secret, int version, SecretData value) throws IOException {
                return inner.holds(secret, version, value);
            }

            @Override
            public boolean reloads() {
                return inner.reloads();
            }

            @Override
            public String address() {
                return inner.address();
            }

            @Override
            public boolean readBackSuffices() {
                return inner.readBackSuffices();
            }
        };
    }

    public Plugins.Verifier verifier(String secretId, Plugins.Verifier inner) {
        Counter failures = Counter.builder("keyward.verify.failures")
                .description("New values a verifier refused or could not check").tag("secret", secretId).register(registry);
        return (secret, value) -> {
            try {
                inner.verify(secret, value);
            } catch (IOException | RuntimeException e) {
                failures.increment();
                throw e;
            }
        };
    }

    // ---- notices

    public Plugins.Notifier notices() {
        return n -> {
            notices(n.word()).increment();
            if (n.kind() == Policy.NoticeKind.REVOCABLE) gauges(n.secretId()).revocableSince = clock.millis() / 1000.0;
        };
    }

    // ---- scheduler observations

    public void scheduled(String secretId, Instant at) {
        gauges(secretId).nextRun = at.toEpochMilli() / 1000.0;
    }

    public void state(String secretId, Optional<Instant> lastRotated, Instant due) {
        SecretGauges g = gauges(secretId);
        g.lastRotated = lastRotated.map(t -> t.toEpochMilli() / 1000.0).orElse(Double.NaN);
        g.due = due.toEpochMilli() / 1000.0;
    }

    public void finished(String secretId, Outcome outcome, Duration took) {
        rotations(outcomeWord(outcome)).increment();
        if (outcome instanceof Outcome.Completed c) c.outage().ifPresent(d -> outage(secretId, d));
        int pending = outcome instanceof Outcome.AwaitingMembers a ? a.pending().size() : 0;
        java.util.concurrent.atomic.AtomicInteger acks = acksPending.get(secretId);
        if (acks == null && pending > 0) {
            acks = acksPending.computeIfAbsent(secretId, id -> {
                java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
                Gauge.builder("keyward.acks.pending", n, java.util.concurrent.atomic.AtomicInteger::get)
                        .description("Targets of other members the rotation in flight waits for").tag("secret", id)
                        .register(registry);
                return n;
            });
        }
        if (acks != null) acks.set(pending);
        if (outcome.inFlight()) {
            inFlight.put(secretId, outcome instanceof Outcome.Waiting w ? w.phase().word()
                    : outcome instanceof Outcome.AwaitingMembers a ? a.phase().word()
                    : inFlight.getOrDefault(secretId, outcome instanceof Outcome.InFlightElsewhere ? "elsewhere" : "unknown"));
        } else if (!(outcome instanceof Outcome.Unavailable)) {
            inFlight.remove(secretId);
            gauges(secretId).revocableSince = Double.NaN;
        }
    }

    private final Map<String, Double> keyValid = new ConcurrentHashMap<>();
    private final Map<String, Double> outages = new ConcurrentHashMap<>();

    /** How long the consumers of a single-key secret had no working key in its last outage. */
    public void outage(String secretId, Duration length) {
        if (outages.put(secretId, length.toMillis() / 1000.0) == null) {
            Gauge.builder("keyward.docbits.outage", outages, m -> m.getOrDefault(secretId, Double.NaN))
                    .description("Length of the last outage of a single-key DocBits secret: from the old key's first "
                            + "refusal (or the submit) to the last target's acknowledgement of the new one")
                    .baseUnit("seconds").tag("secret", secretId).register(registry);
        }
    }

    /** Whether DocBits took the secret's live key at the last probe: 1, 0, or NaN before any answer. */
    public void liveKey(String secretId, io.keyward.docbits.LiveKey.State state) {
        double v = switch (state) {
            case ACCEPTED -> 1;
            case REFUSED -> 0;
            case UNKNOWN -> Double.NaN;
        };
        if (keyValid.put(secretId, v) == null) {
            Gauge.builder("keyward.docbits.key.valid", keyValid, m -> m.getOrDefault(secretId, Double.NaN))
                    .description("1 while DocBits takes the secret's live key, 0 once it refuses it (NaN: no answer yet)")
                    .tag("secret", secretId).register(registry);
        }
    }

    /** The fleet's members by state, as the last look at the membership records found them. */
    public void members(int live, int silent) {
        membersLive.set(live);
        membersSilent.set(silent);
    }

    public void synced(String secretId, Outcome outcome) {
        if (!outcome.failed() && !(outcome instanceof Outcome.Undelivered)) lastSync.set(clock.millis());
        syncs(outcomeWord(outcome)).increment();
    }

    public void removed(String secretId) {
        secrets.remove(secretId);
        inFlight.remove(secretId);
        deliveries.remove(secretId);
        keyValid.remove(secretId);
        outages.remove(secretId);
    }

    static String outcomeWord(Outcome o) {
        if (o instanceof Outcome.Completed || o instanceof Outcome.Delivered) return "completed";
        if (o instanceof Outcome.Repaired) return "repaired";
        if (o instanceof Outcome.Waiting || o instanceof Outcome.AwaitingMembers || o instanceof Outcome.Undelivered
                || o instanceof Outcome.InFlightElsewhere) {
            return "waiting";
        }
        if (o instanceof Outcome.RolledBack) return "rolled_back";
        if (o instanceof Outcome.NotRetired) return "not_retired";
        if (o instanceof Outcome.AwaitingPerson) return "awaiting_person";
        if (o instanceof Outcome.BackingOff) return "backing_off";
        if (o instanceof Outcome.PolicyDiffers) return "policy_differs";
        if (o instanceof Outcome.Stopped || o instanceof Outcome.Unavailable) return "stopped";
        return "skipped";
    }

    private SecretGauges gauges(String secretId) {
        return secrets.computeIfAbsent(secretId, id -> new SecretGauges());
    }

    /**
     * The series of every secret (age, due, next run, revocable since) and of every target
     * (deliveries by result), made at each scrape from a few numbers per secret: a meter per
     * series would hold about a kilobyte each, most of the heap at 10,000 secrets.
     */
    private final class PerSecret implements io.prometheus.metrics.model.registry.MultiCollector {
        private static final List<String> NAMES = List.of("keyward_secret_age_seconds",
                "keyward_secret_due_timestamp_seconds", "keyward_secret_next_run_timestamp_seconds",
                "keyward_revocable_since_timestamp_seconds", "keyward_deliveries", "keyward_rotation_phase");

        @Override
        public io.prometheus.metrics.model.snapshots.MetricSnapshots collect() {
            java.util.SortedMap<String, SecretGauges> now = new java.util.TreeMap<>(secrets);
            double at = clock.millis() / 1000.0;
            return new io.prometheus.metrics.model.snapshots.MetricSnapshots(
                    gauge(NAMES.get(0), "Seconds since the live value was written", now,
                            g -> Double.isNaN(g.lastRotated) ? Double.NaN : at - g.lastRotated),
                    gauge(NAMES.get(1), "When the secret is due for rotation by its schedule", now, g -> g.due),
                    gauge(NAMES.get(2), "When keyward next looks at the secret", now, g -> g.nextRun),
                    gauge(NAMES.get(3), "Since when the old key may be revoked by a person (manual keys); NaN when none",
                            now, g -> g.revocableSince),
                    deliveries(), phases());
        }

        /** 1 for each rotation in flight, labelled with its secret and the phase it reached. */
        private io.prometheus.metrics.model.snapshots.GaugeSnapshot phases() {
            var b = io.prometheus.metrics.model.snapshots.GaugeSnapshot.builder().name(NAMES.get(5))
                    .help("Rotations in flight: 1 per secret, labelled with the phase it reached");
            new java.util.TreeMap<>(inFlight).forEach((secret, phase) -> b.dataPoint(
                    io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot.builder().value(1)
                            .labels(io.prometheus.metrics.model.snapshots.Labels.of("phase", phase, "secret", secret)).build()));
            return b.build();
        }

        private io.prometheus.metrics.model.snapshots.GaugeSnapshot gauge(String name, String help,
                java.util.SortedMap<String, SecretGauges> now, java.util.function.ToDoubleFunction<SecretGauges> value) {
            var b = io.prometheus.metrics.model.snapshots.GaugeSnapshot.builder().name(name).help(help)
                    .unit(io.prometheus.metrics.model.snapshots.Unit.SECONDS);
            now.forEach((id, g) -> b.dataPoint(io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot
                    .builder().value(value.applyAsDouble(g)).labels(io.prometheus.metrics.model.snapshots.Labels.of("secret", id))
                    .build()));
            return b.build();
        }

        private io.prometheus.metrics.model.snapshots.CounterSnapshot deliveries() {
            var b = io.prometheus.metrics.model.snapshots.CounterSnapshot.builder().name(NAMES.get(4))
                    .help("Deliveries to targets by result");
            new java.util.TreeMap<>(deliveries).forEach((secret, targets) -> new java.util.TreeMap<>(targets).forEach((target, n) -> {
                for (String result : List.of("failed", "ok")) {
                    b.dataPoint(io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot.builder()
                            .value((result.equals("ok") ? n.ok : n.failed).sum())
                            .labels(io.prometheus.metrics.model.snapshots.Labels.of("result", result, "secret", secret,
                                    "target", target))
                            .build());
                }
            }));
            return b.build();
        }

        @Override
        public List<String> getPrometheusNames() {
            return NAMES;
        }
    }
}
