package io.keyward.daemon;

import io.keyward.docbits.LiveKey;
import io.keyward.metrics.Metrics;
import io.keyward.policy.Policy;
import io.keyward.rotation.Journal;
import io.keyward.rotation.Plugins;
import io.keyward.rotation.SecretBinding;
import io.keyward.rotation.StoreException;
import io.keyward.rotation.VersionedSecret;
import io.keyward.schedule.RotationScheduler;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the live key of every secret of a DocBits issuer: tried against DocBits every
 * {@code probe_every}, and at once after a consumer's health check answered 401. A key DocBits
 * refuses (regenerated or revoked in its settings) raises a {@code dead} notice, is noted in
 * Vault, and from then on Vault is looked at every second, so that the new key is delivered the
 * moment it is there. A single-key secret's outage is read from its journal once its rotation ends.
 */
final class LiveKeys {

    private static final Logger LOG = LoggerFactory.getLogger(LiveKeys.class);

    /** While a live key is refused, how often Vault is looked at for the new one (its consumers are failing). */
    static final Duration DEAD_KEY_LOOK = Duration.ofSeconds(1);

    private final Clock clock;
    private final Metrics metrics;
    private volatile Agent agent;
    private volatile RotationScheduler scheduler;

    /** What the last probe found of each live key; when Vault, and DocBits, are looked at next. */
    private final Map<String, LiveKey.State> states = new ConcurrentHashMap<>();
    private final Map<String, Instant> nextLook = new ConcurrentHashMap<>();
    private final Map<String, Instant> nextProbe = new ConcurrentHashMap<>();
    /** The version whose key DocBits refused, per secret, while it is still the live one. */
    private final Map<String, Integer> refusedVersion = new ConcurrentHashMap<>();
    /** The live version each secret's last probe tried. */
    private final Map<String, Integer> probedVersion = new ConcurrentHashMap<>();
    /** Secrets a consumer's health check reported a refused key for: probed at the next tick. */
    private final Set<String> reported = ConcurrentHashMap.newKeySet();
    /** Single-key secrets whose new key DocBits takes, until their rotation ends and its outage is known. */
    private final Set<String> outageOpen = ConcurrentHashMap.newKeySet();

    LiveKeys(Clock clock, Metrics metrics) {
        this.clock = clock;
        this.metrics = metrics;
    }

    /** Begins the looks, every second, on {@code timers}. */
    void start(Agent agent, RotationScheduler scheduler, ScheduledExecutorService timers) {
        this.agent = agent;
        this.scheduler = scheduler;
        timers.scheduleWithFixedDelay(this::tick, 1, 1, TimeUnit.SECONDS);
    }

    /** A delivery failed: a health check that got a 401 means a consumer holds a key DocBits may refuse. */
    void deliveryFailed(String secretId, IOException failure) {
        if (failure instanceof Plugins.Unhealthy u && u.keyRefused()) reported.add(secretId);
    }

    void tick() {
        Agent a = agent;
        if (a == null) return;
        Policy policy = a.policy();
        Instant now = clock.instant();
        for (Policy.SecretPolicy s : policy.secrets()) {
            if (s.probe().isEmpty() || !(s.generator() instanceof Policy.GeneratorSpec.Issued i)
                    || !(policy.issuers().get(i.issuer()) instanceof Policy.IssuerSpec.DocBits d)) {
                continue;
            }
            boolean asked = reported.remove(s.id());
            if (!asked && now.isBefore(nextLook.getOrDefault(s.id(), Instant.MIN))) continue;
            nextLook.put(s.id(), now.plus(s.probe().get()));
            if (asked) nextProbe.remove(s.id());
            try {
                look(a, s, d);
            } catch (RuntimeException | StoreException e) {
                LOG.warn("could not try the live key of {} against DocBits: {}", s.id(), e.getMessage());
            }
        }
        outages(a);
    }

    private void look(Agent a, Policy.SecretPolicy s, Policy.IssuerSpec.DocBits issuer) throws StoreException {
        SecretBinding b = a.bindings().get(s.id());
        if (b == null) return;
        Optional<VersionedSecret> live = a.vault().read(b.livePath());
        Optional<String> key = live.flatMap(v -> v.data().string(b.field())).filter(k -> !k.isEmpty());
        if (key.isEmpty()) return; // nothing live yet: the rotation or a person provides it
        int version = live.get().version();
        Instant at = clock.instant();
        // While the refused key is still live, Vault is looked at every second for the new one; DocBits at probe_every.
        if (refusedVersion.getOrDefault(s.id(), 0) == version) {
            nextLook.put(s.id(), at.plus(DEAD_KEY_LOOK));
            if (at.isBefore(nextProbe.getOrDefault(s.id(), Instant.MIN))) return;
        }
        nextProbe.put(s.id(), at.plus(s.probe().get()));
        LiveKey.Step step = LiveKey.next(states.getOrDefault(s.id(), LiveKey.State.UNKNOWN),
                a.liveKeyProbe(issuer).apply(key.get()));
        states.put(s.id(), step.next());
        metrics.liveKey(s.id(), step.next());
        boolean otherVersionRefused = false; // a new version refused too is a new dead key, said again
        if (step.next() == LiveKey.State.REFUSED) {
            otherVersionRefused = refusedVersion.put(s.id(), version) != null;
            nextLook.put(s.id(), at.plus(DEAD_KEY_LOOK));
        } else if (step.next() == LiveKey.State.ACCEPTED && refusedVersion.remove(s.id()) != null) {
            a.rotator().keyAccepted(b, version);
        }
        if (step.announceDead() || otherVersionRefused) {
            a.rotator().keyRefused(b, version, at);
            a.announce(new Plugins.Notice(Policy.NoticeKind.DEAD, s.id(), null, version, LiveKey.deadDetail(s.id())));
        }
        Integer probedBefore = probedVersion.put(s.id(), version);
        boolean newVersion = probedBefore != null && probedBefore != version && step.next() == LiveKey.State.ACCEPTED;
        if (step.announceBack() || newVersion) {
            // A new key DocBits takes: delivered now, not at the next watch (a single key's consumers are failing).
            LOG.info("DocBits takes the live key of {} (v{}){}; delivering it now", s.id(), version,
                    step.announceBack() ? " again" : "");
            if (b.urgent()) outageOpen.add(s.id());
            try {
                scheduler.watchNow(s.id());
            } catch (org.quartz.SchedulerException e) {
                LOG.warn("could not deliver v{} of {} at once; its watch will: {}", version, s.id(), e.getMessage());
            }
        }
    }

    /**
     * The outage of a single-key secret ends with its rotation, which any member (or {@code keyward
     * submit}) may drive: its length is read from the journal once the rotation is over.
     */
    private void outages(Agent a) {
        for (String id : outageOpen) {
            try {
                Optional<Journal.Journaled> j = a.rotator().journal(id);
                if (j.isPresent() && j.get().entry().active()) continue;
                outageOpen.remove(id);
                j.filter(x -> !x.entry().history().isEmpty()).flatMap(x -> x.entry().history().get(0).outageLength())
                        .ifPresent(d -> metrics.outage(id, d));
            } catch (StoreException | RuntimeException e) {
                LOG.warn("could not read the journal of {} for its outage: {}", id, e.getMessage());
            }
        }
    }
}
