package io.keyward.rotation;

import io.keyward.policy.Policy;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The step that makes the new value live: a check-and-set write of the live path, and the marks
 * that tell every agent which rotation made it. Recognising this rotation's own write after a
 * crash compares values, never fingerprints under one agent's key.
 */
final class Promotion extends RunPart {

    /** Journal marks: the live write was attempted; its version was gone when looked at again. */
    static final String PROMOTING = "promoting";
    static final String SUPERSEDED = "superseded";


    Promotion(Run run) {
        super(run);
    }

    /**
     * Check-and-set on the version the rotation started from, after journaling the intent. A
     * conflict after an earlier attempt is this rotation's own write if the version after it
     * holds exactly the pending value (an agent died before journaling PROMOTED). If Vault no
     * longer has that version (newer writes made max_versions drop it, or it was deleted),
     * nobody can tell whether it was this rotation's: it goes forward as if it were, because a
     * consumer may hold it, and says so. A conflict on the first attempt is someone else's
     * write: the rotation rolls back.
     */
    void promote() throws StoreException {
        JournalEntry e = run.e();
        int promoted = e.newVersion();
        if (!e.external()) {
            Optional<SecretData> pending = run.pendingOrFail();
            if (pending.isEmpty()) return;
            SecretData value = pending.get();
            int before = e.liveVersionBefore();
            boolean triedBefore = e.marked(PROMOTING).isPresent();
            if (!triedBefore) run.save(e.mark(PROMOTING, run.now()));
            try {
                promoted = core.store().write(b.livePath(), value, OptionalInt.of(before));
            } catch (CasConflictException conflict) {
                // On a first attempt the conflict is a definite answer: this rotation's value never landed.
                Optional<SecretData> next = triedBefore ? core.liveAt(b, before + 1) : Optional.empty();
                boolean ours = next.map(value::equals).orElse(false);
                if (!ours && (next.isPresent() || !triedBefore)) {
                    core.record(run.e(), "rotation.conflict", AuditEvent.Outcome.CONFLICT, "the live path moved on from v"
                            + before);
                    run.fail("the live value changed from v" + before + " while rotating: someone else rotated it");
                    return;
                }
                promoted = before + 1; // this rotation's own write, made before a crash
                if (!ours && run.e().marked(SUPERSEDED).isEmpty()) superseded(promoted, value);
            }
        }
        core.marks().promoted(b.livePath(), promoted, run.e().liveVersionBefore(), run.e().rotationId());
        run.advance(run.e().promotedAs(promoted).to(Phase.PROMOTED, run.now()));
    }

    /**
     * The ambiguous promotion: the rotation goes on as if the version were its own, and its new
     * key is kept at a path of its own for a person, who revokes it once no consumer uses it.
     */
    private void superseded(int version, SecretData value) throws StoreException {
        int current = core.store().metadata(b.livePath()).map(SecretMetadata::currentVersion).orElse(0);
        SecretPath kept = core.journal().keepSuperseded(b.id(), run.e().rotationId(), value);
        String why = "v" + version + " is gone from Vault and v" + current + " was written over it: whether v" + version
                + " held this rotation's key cannot be told, so the rotation goes on as if it did; its new key is kept at "
                + kept + ": revoke it at the issuer once no consumer uses it, then delete that path";
        run.save(run.e().mark(SUPERSEDED, run.now()));
        core.record(run.e(), "rotation.conflict", AuditEvent.Outcome.CONFLICT, why);
        core.notice(Policy.NoticeKind.DEGRADED, b.id(), run.e().rotationId(), version, why);
    }
}
