package io.keyward.rotation;

import io.keyward.policy.Policy;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * What keyward says to a person about a key it does not make: that a manual key is due (once per
 * version), and, when the person says the old key was revoked, the end of the rotation (refused
 * while any live member's target still lacks the new key).
 */
final class Announcements {

    /** How often a due manual key is looked at again while keyward waits for a person. */
    static final Duration MANUAL_RECHECK = Duration.ofHours(1);

    private final Core core;

    Announcements(Core core) {
        this.core = core;
    }

    Outcome due(SecretBinding b, Optional<SecretMetadata> meta, Start.Verdict.AnnounceDue d, boolean emergency)
            throws StoreException {
        Instant now = core.clock().instant();
        int live = meta.map(SecretMetadata::currentVersion).orElse(0);
        String ask = b.urgent()
                ? "regenerate the key in DocBits' settings, then run 'keyward submit " + b.id() + "' at once (it reads"
                        + " standard input): the old key stops working when you regenerate, and every consumer fails until"
                        + " keyward has delivered the new one"
                : "create a new key in DocBits' settings, then hand it over with 'keyward submit " + b.id()
                        + (emergency ? " --emergency" : "") + "' (it reads standard input) or write it to " + b.livePath();
        if (!d.announced()) {
            String detail = (emergency ? "emergency: replace the key now" : "due " + d.due()) + "; " + ask;
            core.audit().record(AuditEvent.of(emergency ? "rotation.emergency" : "rotation.due").path(b.id())
                    .version(live > 0 ? live : null).outcome(AuditEvent.Outcome.OK).attribute("detail", detail).build());
            core.notice(emergency ? Policy.NoticeKind.EMERGENCY : Policy.NoticeKind.DUE, b.id(), null, live, detail);
            if (meta.isPresent() && !emergency) core.marks().dueAnnounced(b.livePath(), meta.get().customMetadata(), live);
        }
        return new Outcome.AwaitingPerson(b.id(), d.due(), now.plus(MANUAL_RECHECK),
                "due " + d.due() + ", waiting for a person: " + ask);
    }

    /** How often a secret whose members disagree is looked at again. */
    static final Duration DISAGREEMENT_RECHECK = Duration.ofMinutes(5);

    /** Another live member's shared policy part differs: not rotated, and said once per pair of policies. */
    java.util.Optional<Outcome> policyDiffers(SecretBinding b) throws StoreException {
        Instant now = core.clock().instant();
        java.util.Optional<Fleet.Member> other = Start.disagreeing(b.shared(), core.self(), core.fleet().serving(b.id()),
                core.settings().memberTimeout(), now);
        if (other.isEmpty()) return java.util.Optional.empty();
        Fleet.Member m = other.get();
        String detail = "members " + core.self() + " (policy " + b.shared() + ") and " + m.agent() + " (policy "
                + m.policy() + ") serve " + b.id() + " with a different path, generator, issuer, schedule or grace:"
                + " it is not rotated until their policies agree";
        String key = "differs:" + b.id() + ":" + m.agent();
        if (!detail.equals(core.said().put(key, detail))) {
            core.notice(Policy.NoticeKind.REJECTED, b.id(), null, 0, detail);
        }
        return java.util.Optional.of(new Outcome.PolicyDiffers(b.id(), m.agent(), now.plus(DISAGREEMENT_RECHECK)));
    }

    Outcome confirmRevoked(SecretBinding b) {
        String id = b.id();
        try {
            Optional<Journal.Journaled> current = core.journal().read(id);
            if (current.isEmpty() || !current.get().entry().active()) {
                return new Outcome.Skipped(id, "no rotation in flight: nothing waits for a revocation");
            }
            JournalEntry e = current.get().entry();
            Instant now = core.clock().instant();
            List<String> missing = e.phase().promoted() ? Decision.unacknowledged(e, new Decision.Facts(b.source().kind(),
                    core.self(), b.targetIds(), core.fleet().servingNow(id), true, b.grace(),
                    core.settings().memberTimeout(), core.memberPoll(b), now)) : List.of();
            if (e.phase() != Phase.DELIVERED || !missing.isEmpty()) {
                return new Outcome.Skipped(id, "rotation " + e.rotationId() + " is at " + e.phase().word()
                        + ": do not revoke the old key yet, " + (missing.isEmpty() ? "the new key is not delivered"
                        : "targets " + String.join(", ", missing) + " still hold it"));
            }
            JournalEntry done = e.finished(Phase.RETIRED, "revoked by hand", null, now, core.outage(b, e).orElse(null))
                    .owned(core.self(), now, now);
            core.journal().save(current.get(), done);
            core.journal().discardQuietly(id, e.rotationId());
            core.journal().forgetInFlight(id);
            core.record(done, "rotation.revoke_confirmed", AuditEvent.Outcome.OK,
                    "old version " + e.liveVersionBefore() + " revoked by hand");
            core.listener().entered(id, e.rotationId(), Phase.RETIRED);
            return new Outcome.Completed(id, e.rotationId(), e.liveVersionBefore(), e.newVersion(),
                    done.history().get(0).outageLength());
        } catch (CasConflictException c) {
            return new Outcome.Skipped(id, "the journal changed meanwhile; try again");
        } catch (StoreException e) {
            return new Outcome.Unavailable(id, "could not close the rotation: " + e.getMessage());
        }
    }
}
