package io.keyward.rotation;

import io.keyward.policy.Policy;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * The end of a rotation once every live member has the new version and the grace is over: the
 * old value is revoked at the issuer, or, for a key a person manages, reported revocable until it
 * is seen or said revoked. An old value the issuer reports still used is kept. A retirement that
 * cannot be done (the old value is gone) never counts as completed.
 */
final class Retirement extends RunPart {

    /** How often a manual rotation waiting for the old key's revocation looks again. */
    static final Duration REVOCATION_CHECK = Duration.ofMinutes(5);


    Retirement(Run run) {
        super(run);
    }

    Optional<Outcome> revoke() throws StoreException {
        Optional<String> old = oldValue();
        if (old.isEmpty()) return notRetired();
        Optional<Outcome> inUse = stillUsed(b.source().usage().orElseThrow(), old.get());
        if (inUse.isPresent()) return inUse;
        Plugins.Issuer issuer = b.source().revoker().orElseThrow();
        try {
            run.retrier.run(() -> issuer.revoke(b.id(), old.get()), Core::retryable);
        } catch (IOException failure) {
            Instant retry = run.now().plus(b.policy().retry().max());
            core.record(run.e(), "rotation.retired", AuditEvent.Outcome.FAILED, failure.getMessage());
            return Optional.of(run.waitUntil(retry, "revoking the old value failed: " + failure.getMessage(),
                    "revoking the old value failed: " + failure.getMessage()));
        }
        return finish(null);
    }

    /**
     * Manual issuance: says once that the old key may now be revoked, then waits until a person
     * confirms it or the issuer is seen to refuse the old key.
     */
    Optional<Outcome> awaitRevocation() throws StoreException {
        JournalEntry e = run.e();
        Plugins.ManualKeys keys = ((KeySource.Manual) b.source()).keys();
        Optional<String> old = oldValue();
        if (old.isPresent()) {
            // Once the key is reported revocable the person decides; keyward's own probes would count as use.
            if (e.marked("revocable").isEmpty()) {
                Optional<Outcome> inUse = stillUsed(keys, old.get());
                if (inUse.isPresent()) return inUse;
            }
            boolean refused;
            try {
                refused = keys.refuses(b.id(), old.get());
            } catch (IOException cannotTell) {
                refused = false;
            }
            if (refused) return finish("old version " + e.liveVersionBefore() + " is seen revoked at the issuer");
        }
        String ask = "old version " + e.liveVersionBefore() + " may now be revoked in DocBits' settings"
                + " (every target has v" + e.newVersion() + "); then run 'keyward confirm-revoked " + b.id() + "'"
                + (old.isEmpty() ? " (keyward has no copy of it to see the revocation itself)" : "");
        if (e.marked("revocable").isEmpty()) {
            core.record(e, "rotation.revocable", AuditEvent.Outcome.OK, ask);
            core.notice(Policy.NoticeKind.REVOCABLE, b.id(), e.rotationId(), e.liveVersionBefore(), ask);
            run.save(e.mark("revocable", run.now()));
        }
        return Optional.of(run.waitUntil(run.now().plus(REVOCATION_CHECK), null, ask));
    }

    /**
     * Ends the rotation: journaled first, then the pending value and the kept old one go (a crash
     * between leaves copies the next rotation overwrites); a note stays in the journal.
     */
    Optional<Outcome> finish(String note) throws StoreException {
        JournalEntry e = run.e();
        run.advance(e.finished(Phase.RETIRED, e.emergency() ? "emergency" : "completed", note, run.now(),
                core.outage(b, e).orElse(null)));
        core.journal().discardQuietly(b.id(), run.e().rotationId());
        return Optional.empty();
    }

    /** The old value is gone from Vault and keyward kept none: say so, and never call it completed. */
    private Optional<Outcome> notRetired() throws StoreException {
        JournalEntry e = run.e();
        String why = "old version " + e.liveVersionBefore() + " cannot be read back (Vault no longer has it and keyward"
                + " kept no copy): revoke it at the issuer by hand";
        run.advance(e.finished(Phase.RETIRED, "not_retired", why, run.now()));
        core.journal().discardQuietly(b.id(), run.e().rotationId());
        core.record(run.e(), "rotation.retired", AuditEvent.Outcome.FAILED, why);
        core.notice(Policy.NoticeKind.FAILED, b.id(), e.rotationId(), e.liveVersionBefore(), why);
        return Optional.of(new Outcome.NotRetired(b.id(), e.rotationId(), e.liveVersionBefore(), why));
    }

    /**
     * Keeps the old value alive while the issuer reports it used within its quiet period: some
     * consumer still holds it, whatever the acknowledgements say.
     */
    private Optional<Outcome> stillUsed(Plugins.Usage usage, String oldValue) throws StoreException {
        Instant now = run.now();
        Instant retry = now.plus(b.policy().retry().max());
        Optional<Instant> used;
        try {
            used = usage.lastUsed(b.id(), oldValue);
        } catch (IOException failure) {
            String why = "cannot tell whether the old value is still used: " + failure.getMessage();
            return Optional.of(run.waitUntil(retry, why, why));
        }
        if (used.isEmpty() || !used.get().isAfter(now.minus(usage.quiet()))) return Optional.empty();
        JournalEntry e = run.e();
        String why = "old version " + e.liveVersionBefore() + " was still used at " + used.get()
                + " (less than " + usage.quiet().toMinutes() + " min ago): a consumer still holds it";
        boolean saidSo = e.lastError() != null && e.lastError().contains("a consumer still holds it");
        Outcome.Waiting w = run.waitUntil(retry, why, why);
        core.record(run.e(), "rotation.old_in_use", AuditEvent.Outcome.FAILED, why);
        if (!saidSo) { // once per stretch of use, not at every look
            core.notice(Policy.NoticeKind.DEGRADED, b.id(), e.rotationId(), e.liveVersionBefore(), why + "; it is not retired");
        }
        return Optional.of(w);
    }

    private Optional<String> oldValue() throws StoreException {
        return run.oldValue().flatMap(d -> d.string(b.field())).filter(s -> !s.isEmpty());
    }
}
