package io.keyward.rotation;

import io.keyward.policy.Policy;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Delivers a promoted version to this agent's own targets and journals each acknowledgement as
 * (this agent, target) as soon as it is made. A target that holds the version already, by the
 * evidence {@link Handover} asks for, is acknowledged without being written again. A failing
 * target keeps the old value valid; one whose health check fails may get the previous value back.
 */
final class Delivery extends RunPart {

    Delivery(Run run) {
        super(run);
    }

    Optional<Outcome> deliver(List<String> targetIds) throws StoreException {
        JournalEntry e = run.e();
        Versioned value = value(e);
        int version = value.version();
        List<String> failures = new ArrayList<>();
        for (Plugins.Target t : b.targets()) {
            if (!targetIds.contains(t.id())) continue;
            Handover.Held held;
            try {
                held = deliverOne(t, version, value.data());
            } catch (Failed failed) {
                failures.add(t.id() + ": " + failed.getMessage());
                continue;
            }
            run.save(run.e().acked(core.self(), Map.of(t.id(), new JournalEntry.Ack(held.version(), run.now())), run.now()));
            core.record(run.e(), "rotation.target", AuditEvent.Outcome.OK, "target " + t.id()
                    + (held.written() ? "" : " (holds v" + held.version() + " already)"));
        }
        if (failures.isEmpty()) return Optional.empty();
        Instant retry = run.now().plus(b.policy().retry().max());
        String why = "delivery failing: " + String.join("; ", failures);
        boolean saidSo = why.equals(run.e().lastError());
        Outcome.Waiting w = run.waitUntil(retry, why, "delivery failing, old value kept valid: " + String.join("; ", failures));
        if (!saidSo) { // announced when the failure starts or changes, not at every retry
            core.notice(Policy.NoticeKind.DEGRADED, b.id(), e.rotationId(), version, why + "; the old value stays valid");
        }
        return Optional.of(w);
    }

    private record Versioned(int version, SecretData data) {}

    /**
     * What to deliver: the promoted version; if Vault no longer has it (deleted, or dropped by
     * max_versions after a newer write), its pending copy, or else (a version someone else wrote
     * and then replaced) the newer live version.
     */
    private Versioned value(JournalEntry e) throws StoreException {
        int version = e.newVersion();
        Optional<SecretData> promoted = core.liveAt(b, version);
        if (promoted.isEmpty() && !e.external()) promoted = run.pending();
        if (promoted.isPresent()) return new Versioned(version, promoted.get());
        Optional<VersionedSecret> newest;
        try {
            newest = core.store().read(b.livePath());
        } catch (VersionGoneException gone) {
            newest = Optional.empty();
        }
        if (newest.isPresent() && newest.get().version() > version) {
            return new Versioned(newest.get().version(), newest.get().data());
        }
        throw new StoreException("promoted version " + version + " of " + b.livePath()
                + " is gone from Vault and no newer version is readable");
    }

    /** A target that could not be given the version: why. */
    private static final class Failed extends Exception {
        Failed(String why) {
            super(why, null, false, false);
        }
    }

    /** Puts the version on one target (see {@link Handover}); a failure says why, after rolling an unhealthy target back. */
    private Handover.Held deliverOne(Plugins.Target t, int version, SecretData value) throws StoreException, Failed {
        // StoreException: rolling back may need the old value from Vault
        try {
            return new Handover(core).put(b, t, version, value, run.retrier, false);
        } catch (IOException failure) {
            String why = failure.getMessage();
            core.record(run.e(), "rotation.target", AuditEvent.Outcome.FAILED, "target " + t.id() + ": " + why);
            if (failure instanceof Plugins.Unhealthy && t.rollsBack()) why += "; " + restore(t);
            throw new Failed(why);
        }
    }

    /** Gives a target whose health check failed its previous value back; says what happened. */
    private String restore(Plugins.Target t) throws StoreException {
        int old = run.e().liveVersionBefore();
        if (old == 0) return "no previous value to roll it back to";
        Optional<SecretData> previous = run.oldValue();
        if (previous.isEmpty()) return "previous v" + old + " is gone from Vault: not rolled back";
        try {
            t.restore(b.id(), old, previous.get());
        } catch (IOException failure) {
            core.record(run.e(), "rotation.target_rolled_back", AuditEvent.Outcome.FAILED, "target " + t.id() + ": "
                    + failure.getMessage());
            return "rolling back to v" + old + " failed too: " + failure.getMessage();
        }
        core.record(run.e(), "rotation.target_rolled_back", AuditEvent.Outcome.OK, "target " + t.id() + " back on v" + old);
        try {
            new Handover(core).restored(b, t, old, previous.get());
        } catch (IOException failure) {
            return "rolled back to v" + old + ", but the local ledger could not be written: " + failure.getMessage();
        }
        return "rolled back to v" + old;
    }

}
