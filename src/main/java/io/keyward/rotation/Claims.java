package io.keyward.rotation;

import io.keyward.policy.Policy;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Starting a rotation (a check-and-set claim of the journal) and taking one over: a rotation
 * whose owner's lease ran out is driven on by this agent; one whose owner is live is left to it,
 * and this agent only delivers to its own targets and acknowledges them.
 */
final class Claims {

    private final Core core;

    Claims(Core core) {
        this.core = core;
    }

    /** Drives a rotation in flight if this agent owns it or its owner's lease ran out; else acts as a member. */
    Outcome drive(SecretBinding b, Journal.Journaled j, boolean emergency) throws StoreException {
        JournalEntry e = j.entry();
        Instant now = core.clock().instant();
        boolean mine = core.self().equals(e.owner());
        if (!mine && e.leaseUntil() != null && now.isBefore(e.leaseUntil())) return new Sync(core).asMember(b, j);
        JournalEntry taken = e.owned(core.self(), now.plus(core.settings().lease()), now);
        if (emergency) taken = taken.asEmergency();
        Journal.Journaled next;
        try {
            next = core.journal().save(j, taken);
        } catch (CasConflictException c) {
            return new Outcome.Skipped(b.id(), "another agent took the rotation over first");
        }
        if (!mine) core.record(taken, "rotation.taken_over", AuditEvent.Outcome.OK, "from " + e.owner());
        return new Run(core, b, next, null).go();
    }

    /**
     * True when the old value will be needed after it may be gone from Vault: to revoke it, to
     * probe it (a manual key), or to give an unhealthy target its previous value back.
     */
    static boolean keepsOld(SecretBinding b) {
        return b.source().revoker().isPresent() || b.source() instanceof KeySource.Manual
                || b.targets().stream().anyMatch(Plugins.Target::rollsBack);
    }

    /**
     * Claims a new rotation and runs it. A version someone else wrote (trigger vault-change) enters
     * at VERIFY: it replaces the version keyward last verified, not the live one.
     */
    Outcome claim(SecretBinding b, Optional<Journal.Journaled> current, Optional<SecretMetadata> meta, String trigger,
                  boolean emergency, String supplied) throws StoreException {
        String id = b.id();
        int live = meta.map(SecretMetadata::currentVersion).orElse(0);
        boolean external = JournalEntry.VAULT_CHANGE.equals(trigger);
        int verified = meta.map(m -> LiveMarks.current(m.customMetadata())).orElse(0);
        int before = external ? (verified > 0 && verified < live ? verified : 0) : live;
        Instant now = core.clock().instant();
        JournalEntry start = JournalEntry.start(id, core.ids().get(), core.self(), now,
                now.plus(core.settings().lease()), trigger, emergency, before,
                current.map(c -> c.entry().history()).orElse(List.of()));
        if (external) start = start.promotedAs(live);
        Optional<SecretData> old = keepsOld(b) ? core.liveAt(b, before) : Optional.empty();
        if (old.isPresent()) start = start.staged(0, null, true);
        Journal.Journaled claimed;
        try {
            claimed = core.journal().claim(start, current.map(Journal.Journaled::version).orElse(0), old);
        } catch (CasConflictException e) {
            return new Outcome.Skipped(id, "another agent claimed the rotation first");
        }
        core.record(start, "rotation.claimed", AuditEvent.Outcome.OK, null);
        if (emergency) {
            core.notice(Policy.NoticeKind.EMERGENCY, id, start.rotationId(), start.liveVersionBefore(),
                    "emergency rotation: the old value is retired as soon as every target has the new one");
        }
        core.listener().entered(id, start.rotationId(), Phase.CLAIMED);
        return new Run(core, b, claimed, supplied).go();
    }
}
