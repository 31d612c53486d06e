package io.keyward.rotation;

import io.keyward.policy.Policy;
import java.io.IOException;
import java.time.Clock;
import java.util.function.BooleanSupplier;
import java.util.function.DoubleSupplier;

/** What every part of one {@link Rotator} shares: its stores, plug-ins, clock and identity. */
record Core(SecretStore store, Journal journal, LiveMarks marks, AuditLog audit, Fingerprinter fingerprints, Clock clock,
            Sleeper sleeper, DoubleSupplier random, Rotator.Settings settings, Plugins.PhaseListener listener,
            Plugins.Notifier notifier, Fleet fleet, Ledger ledger, BooleanSupplier stopping,
            java.util.concurrent.ConcurrentMap<String, String> said, java.util.function.Supplier<String> ids,
            Installation installation) {

    String self() {
        return settings.agentId();
    }

    void notice(Policy.NoticeKind kind, String secretId, String rotationId, int version, String detail) {
        notifier.announce(new Plugins.Notice(kind, secretId, rotationId, version, detail));
    }

    /** One audit line of a rotation step, with the new value's fingerprint and never a value. */
    void record(JournalEntry e, String event, AuditEvent.Outcome outcome, String detail) {
        audit.record(stepEvent(e, event, outcome, detail).build());
    }

    static AuditEvent.Builder stepEvent(JournalEntry e, String event, AuditEvent.Outcome outcome, String detail) {
        return AuditEvent.of(event).path(e.secretId()).version(e.newVersion() > 0 ? e.newVersion() : null)
                .outcome(outcome).fingerprint(e.newFingerprint())
                .attribute("rotation_id", e.rotationId()).attribute("phase", e.phase().word())
                .attribute("trigger", e.trigger()).attribute("detail", detail);
    }

    /**
     * Why no step may run now because the audit file takes no lines (a notice says so once per
     * cause), or empty when it does. Lines held back are written by asking.
     */
    java.util.Optional<String> auditBlocked(String secretId) {
        java.util.Optional<String> why = audit.blocked();
        if (why.isEmpty()) {
            said.remove(AUDIT);
        } else if (!why.get().equals(said.put(AUDIT, why.get()))) {
            notice(Policy.NoticeKind.DEGRADED, secretId, null, 0, why.get());
        }
        return why;
    }

    /** The key under which the last audit problem announced is kept. */
    private static final String AUDIT = "audit file";

    Retrier retrier(SecretBinding b) {
        return new Retrier(Retrier.Backoff.of(b.policy().retry()), sleeper, random);
    }

    /** Failures worth repeating within a cycle: not a definite no, not a failed health check, not a conflict. */
    static boolean retryable(IOException e) {
        return !(e instanceof Plugins.Rejected) && !(e instanceof Plugins.Unhealthy) && !(e instanceof CasConflictException);
    }

    /** The live value at a version, or empty when Vault no longer has it (deleted, destroyed or dropped). */
    java.util.Optional<SecretData> liveAt(SecretBinding b, int version) throws StoreException {
        if (version <= 0) return java.util.Optional.empty();
        try {
            return store.read(b.livePath(), version).map(VersionedSecret::data);
        } catch (VersionGoneException gone) {
            return java.util.Optional.empty();
        }
    }

    /**
     * For an urgent (single-key) secret whose rotation ends: how long its consumers had no working
     * key, said in the audit and to the operator; empty for others or when no target acknowledged.
     */
    java.util.Optional<java.time.Duration> outage(SecretBinding b, JournalEntry e) throws StoreException {
        if (!b.urgent()) return java.util.Optional.empty();
        java.util.Optional<java.time.Instant> refused = store.metadata(b.livePath())
                .flatMap(m -> LiveMarks.refusedSince(m.customMetadata(), e.liveVersionBefore()));
        java.util.Optional<java.time.Duration> outage = Outage.of(e, refused);
        outage.ifPresent(d -> record(e, "rotation.outage", AuditEvent.Outcome.OK, "consumers were without a working key"
                + " for " + Outage.format(d) + ", from " + refused.filter(t -> t.isBefore(e.startedAt()))
                        .map(t -> "when DocBits first refused v" + e.liveVersionBefore() + " (" + t + ")")
                        .orElse("the submit (" + e.startedAt() + ")") + " to the last target's acknowledgement"));
        return outage;
    }

    /** How often a rotation waiting for other members looks again: the secret's watch, at most a minute. */
    java.time.Duration memberPoll(SecretBinding b) {
        java.time.Duration minute = java.time.Duration.ofMinutes(1);
        return b.policy().watch().filter(w -> w.compareTo(minute) < 0).orElse(minute);
    }
}
