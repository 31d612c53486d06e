package io.keyward.rotation;

import io.keyward.policy.Policy;
import java.io.IOException;
import java.time.Instant;
import java.util.Optional;

/**
 * Undoes a rotation that failed before PROMOTED: the new value is revoked where an issuer holds
 * it (an issued key whose pending copy was never written is asked for again by its request id,
 * so that nothing issued stays valid unknown), the pending value is discarded, and the old value
 * stays live. A version someone else wrote is marked refused instead. The {@code failed} notice
 * goes out once per series of failed attempts.
 */
final class Rollback extends RunPart {


    Rollback(Run run) {
        super(run);
    }

    Optional<Outcome> run() throws StoreException {
        JournalEntry e = run.e();
        if (e.external()) return refuse();
        Optional<Plugins.Issuer> issuer = b.source().revoker();
        boolean issued = b.source() instanceof KeySource.Issued;
        if (issuer.isPresent() && (issued || e.phase() != Phase.CLAIMED)) {
            try {
                Optional<String> fresh = run.pending().flatMap(d -> d.string(b.field()));
                if (fresh.isEmpty() && issued) fresh = reissued(issuer.get());
                if (fresh.isPresent()) {
                    String value = fresh.get();
                    run.retrier.run(() -> issuer.get().revoke(b.id(), value), Core::retryable);
                }
            } catch (IOException failure) {
                Instant retry = run.now().plus(b.policy().retry().max());
                String why = "rolling back: revoking the discarded value failed: " + failure.getMessage();
                return Optional.of(run.waitUntil(retry, why, why));
            }
        }
        core.journal().discard(b.id(), e.rotationId());
        boolean manual = b.source() instanceof KeySource.Manual;
        String reason = e.rollback() + (manual && e.pendingVersion() > 0
                ? "; the submitted key was not used: revoke it in DocBits' settings" : "");
        boolean firstOfSeries = Start.failedAttempts(e.history()) == 0;
        run.advance(e.finished(Phase.ROLLED_BACK, "rolled_back", reason, run.now()));
        if (firstOfSeries) {
            core.notice(Policy.NoticeKind.FAILED, b.id(), e.rotationId(), e.liveVersionBefore(),
                    "rotation rolled back, the old value stays live: " + reason);
        }
        return Optional.of(new Outcome.RolledBack(b.id(), e.rotationId(), reason));
    }

    /**
     * The key an issuer may have minted for this rotation before its answer was lost: asked for
     * again with the same request id. A definite refusal means none was minted.
     */
    private Optional<String> reissued(Plugins.Issuer issuer) throws IOException {
        try {
            return Optional.ofNullable(run.retrier.call(() -> issuer.issue(b.id(), run.e().rotationId()), Core::retryable))
                    .filter(k -> !k.isEmpty());
        } catch (Plugins.Rejected none) {
            return Optional.empty();
        }
    }

    /** A version written in Vault by someone else failed: it is marked refused and never delivered. */
    private Optional<Outcome> refuse() throws StoreException {
        JournalEntry e = run.e();
        String why = "v" + e.newVersion() + " written in Vault was not delivered: " + e.rollback();
        Optional<SecretMetadata> m = core.store().metadata(b.livePath());
        if (m.isPresent()) new Sync(core).refuse(b, m.get().customMetadata(), e.newVersion(), why, e.rotationId());
        core.journal().discard(b.id(), e.rotationId());
        run.advance(e.finished(Phase.ROLLED_BACK, "refused", why, run.now()));
        return Optional.of(new Outcome.RolledBack(b.id(), e.rotationId(), why));
    }
}
