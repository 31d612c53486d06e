package io.keyward.rotation;

import io.keyward.policy.Policy;
import java.io.IOException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One rotation driven forward by this agent: asks {@link Decision} for the next step, carries it
 * out through the plug-ins and the store, and journals it before asking again. Delivery,
 * retirement and rollback have their own classes; the phases up to PROMOTED are here.
 */
final class Run {

    final Core core;
    final SecretBinding b;
    final Retrier retrier;
    private Journal.Journaled j;
    private SecretData pendingValue;
    private List<Fleet.Member> members;
    /** True once {@link #members} were read after this run saw the rotation promoted (a member is silent only by such a read). */
    private boolean membersReadSince;
    /** The key a person handed over (manual issuance), used at STAGED instead of an issuer. */
    private final String supplied;

    Run(Core core, SecretBinding b, Journal.Journaled j, String supplied) {
        this.core = core;
        this.b = b;
        this.j = j;
        this.supplied = supplied;
        this.retrier = core.retrier(b);
    }

    JournalEntry e() {
        return j.entry();
    }

    Instant now() {
        return core.clock().instant();
    }

    Outcome go() {
        try {
            while (true) {
                JournalEntry e = e();
                if (e.phase() == Phase.RETIRED) {
                    return new Outcome.Completed(b.id(), e.rotationId(), e.liveVersionBefore(), e.newVersion(),
                            e.history().isEmpty() ? Optional.empty() : e.history().get(0).outageLength());
                }
                if (e.phase() == Phase.ROLLED_BACK) {
                    return new Outcome.RolledBack(b.id(), e.rotationId(), String.valueOf(e.lastError()));
                }
                if (core.stopping().getAsBoolean()) {
                    return new Outcome.Stopped(b.id(), e.rotationId(), e.phase(),
                            "keyward is stopping; the journal holds the rotation for the next start");
                }
                Optional<String> audit = core.auditBlocked(b.id());
                if (audit.isPresent()) return new Outcome.Stopped(b.id(), e.rotationId(), e.phase(), audit.get());
                Optional<Outcome> stop = perform(Decision.next(e, facts()));
                if (stop.isPresent()) return stop.get();
            }
        } catch (CasConflictException lost) {
            return new Outcome.Stopped(b.id(), e().rotationId(), e().phase(), "another agent changed the journal: "
                    + lost.getMessage());
        } catch (AuditUnavailableException a) {
            core.auditBlocked(b.id());
            return new Outcome.Stopped(b.id(), e().rotationId(), e().phase(), a.getMessage());
        } catch (StoreException s) {
            return new Outcome.Stopped(b.id(), e().rotationId(), e().phase(), s.getMessage());
        }
    }

    private Decision.Facts facts() throws StoreException {
        if (members == null && e().phase().promoted()) members = core.fleet().serving(b.id()); // perhaps a read kept a while
        return new Decision.Facts(b.source().kind(), core.self(), b.targetIds(), members == null ? List.of() : members,
                membersReadSince, b.grace(), core.settings().memberTimeout(), core.memberPoll(b), now());
    }

    private Optional<Outcome> perform(Decision.Step step) throws StoreException {
        if (step instanceof Decision.Step.RollBack) return new Rollback(this).run();
        if (step instanceof Decision.Step.Deliver d) return new Delivery(this).deliver(d.targets());
        if (step instanceof Decision.Step.Revoke) return new Retirement(this).revoke();
        if (step instanceof Decision.Step.AwaitRevocation) return new Retirement(this).awaitRevocation();
        if (step instanceof Decision.Step.Finish f) return new Retirement(this).finish(f.note());
        if (step instanceof Decision.Step.ReadMembers) {
            members = core.fleet().servingNow(b.id());
            membersReadSince = true;
            return Optional.empty();
        }
        if (step instanceof Decision.Step.AwaitMembers w) {
            // looked at again before the planned time (a watch): the plan stands, nothing is journaled
            Instant recheck = e().retryAt() != null && e().retryAt().isAfter(now()) && e().lastError() == null
                    ? e().retryAt() : w.recheck();
            waitUntil(recheck, null, "waiting for other members");
            return Optional.of(new Outcome.AwaitingMembers(b.id(), e().rotationId(), e().phase(), recheck, w.pending()));
        }
        if (step instanceof Decision.Step.Wait w) {
            return Optional.of(waitUntil(w.until(), null, "old version " + e().liveVersionBefore()
                    + " stays valid during the grace period"));
        }
        if (step instanceof Decision.Step.Adopt) adopt();
        else if (step instanceof Decision.Step.Stage) stage();
        else if (step instanceof Decision.Step.Apply a) apply(a.accept());
        else if (step instanceof Decision.Step.Verify) verify();
        else if (step instanceof Decision.Step.Promote) new Promotion(this).promote();
        else if (step instanceof Decision.Step.AnnounceSilent s) announceSilent(s.agents());
        else if (step instanceof Decision.Step.Delivered d) {
            advance(e().to(Phase.DELIVERED, now()).retiringAfter(d.retireAfter()));
        } else {
            throw new IllegalStateException("no executor for " + step);
        }
        return Optional.empty();
    }

    /** A version someone else wrote is live already: nothing to stage or apply; it goes to VERIFY. */
    private void adopt() throws StoreException {
        Optional<SecretData> live = pending();
        if (live.isEmpty()) {
            fail("v" + e().newVersion() + " is gone from Vault");
            return;
        }
        if (live.get().string(b.field()).filter(v -> !v.isEmpty()).isEmpty()) {
            fail("field '" + b.field() + "' of v" + e().newVersion() + " is empty or missing");
            return;
        }
        boolean kept = keepOld().isPresent() && Claims.keepsOld(b);
        advance(e().staged(0, core.fingerprints().of(live.get()), kept).to(Phase.APPLIED, now()));
    }

    private void stage() throws StoreException {
        Optional<SecretData> old = keepOld();
        String value;
        try {
            if (b.source() instanceof KeySource.Issued i) {
                value = retrier.call(() -> i.issuer().issue(b.id(), e().rotationId()), Core::retryable);
            } else if (b.source() instanceof KeySource.Generated g) {
                value = retrier.call(() -> g.generator().generate(), Core::retryable);
            } else {
                value = supplied;
            }
        } catch (IOException failure) {
            fail("could not obtain a new value: " + failure.getMessage());
            return;
        }
        if (value == null || value.isEmpty()) {
            fail(b.source() instanceof KeySource.Manual ? "no key was handed over" : "the new value is empty");
            return;
        }
        Map<String, Object> fields = new LinkedHashMap<>(old.map(SecretData::fields).orElse(Map.of()));
        fields.put(b.field(), value);
        SecretData data = SecretData.of(fields);
        int pending = core.journal().writePending(b.id(), data);
        pendingValue = data;
        advance(e().staged(pending, core.fingerprints().of(data), old.isPresent() && Claims.keepsOld(b))
                .to(Phase.STAGED, now()));
    }

    /**
     * The old value, kept beside the pending one since the claim (see {@link Claims}); a rotation
     * claimed without a copy (an older keyward's, or a claim whose answer was lost) keeps one now
     * if Vault still has the old version.
     */
    private Optional<SecretData> keepOld() throws StoreException {
        if (e().oldKept()) {
            Optional<SecretData> kept = core.journal().kept(b.id(), e().rotationId());
            if (kept.isPresent()) return kept;
        }
        Optional<SecretData> old = core.liveAt(b, e().liveVersionBefore());
        if (old.isPresent() && Claims.keepsOld(b)) core.journal().keepOld(b.id(), e().rotationId(), old.get());
        return old;
    }

    private void apply(boolean accept) throws StoreException {
        if (accept) {
            Optional<SecretData> pending = pendingOrFail();
            if (pending.isEmpty()) return;
            String value = pending.get().string(b.field()).orElseThrow();
            Plugins.Issuer issuer = b.source().revoker().orElseThrow();
            try {
                retrier.run(() -> issuer.accept(b.id(), value), Core::retryable);
            } catch (IOException failure) {
                fail("the issuer did not accept the new value: " + failure.getMessage());
                return;
            }
        }
        advance(e().to(Phase.APPLIED, now()));
    }

    private void verify() throws StoreException {
        Optional<SecretData> pending = pendingOrFail();
        if (pending.isEmpty()) return;
        SecretData value = pending.get();
        for (Plugins.Verifier v : b.verifiers()) {
            try {
                retrier.run(() -> v.verify(b.id(), value), Core::retryable);
            } catch (IOException failure) {
                fail("verification failed: " + failure.getMessage());
                return;
            }
        }
        advance(e().to(Phase.VERIFIED, now()));
    }

    private void announceSilent(List<String> agents) throws StoreException {
        JournalEntry next = e();
        for (String agent : agents) {
            Fleet.Member m = members.stream().filter(x -> x.agent().equals(agent)).findFirst().orElseThrow();
            core.notice(Policy.NoticeKind.DEGRADED, b.id(), e().rotationId(), e().newVersion(), "member " + agent
                    + " (targets " + String.join(", ", new java.util.TreeSet<>(m.targets())) + " of " + b.id()
                    + ") has been silent since " + m.lastSeen() + ": it no longer counts for retiring old version "
                    + e().liveVersionBefore() + "; its targets may still hold it");
            next = next.mark(Decision.silentMark(agent), now());
        }
        save(next);
    }

    // ---- the journal, the new value, failures ------------------------------------------------

    /** The new value: the pending copy, or for a version someone else wrote, that live version. */
    Optional<SecretData> pending() throws StoreException {
        if (pendingValue == null) {
            pendingValue = (e().external() ? core.liveAt(b, e().newVersion())
                    : core.journal().pending(b.id(), e().pendingVersion())).orElse(null);
        }
        return Optional.ofNullable(pendingValue);
    }

    /**
     * The new value; when it cannot be had (a version written in Vault was deleted, or keyward's
     * pending copy is gone) the failure is journaled and the result is empty: the rotation rolls back.
     */
    Optional<SecretData> pendingOrFail() throws StoreException {
        Optional<SecretData> value = pending();
        if (value.isEmpty()) {
            fail(e().external() ? "v" + e().newVersion() + " is gone from Vault"
                    : "the pending value v" + e().pendingVersion() + " is gone from " + core.journal().pendingPath(b.id()));
        }
        return value;
    }

    /** The old value to retire or restore: keyward's kept copy, else Vault's version, if it still has it. */
    Optional<SecretData> oldValue() throws StoreException {
        Optional<SecretData> kept = core.journal().kept(b.id(), e().rotationId());
        return kept.isPresent() ? kept : core.liveAt(b, e().liveVersionBefore());
    }

    /** Journals the next phase (owned by this agent, lease renewed), then audits it and tells the listener. */
    void advance(JournalEntry next) throws StoreException {
        Instant now = now();
        save(next.owned(core.self(), next.phase().terminal() ? now : now.plus(core.settings().lease()), now));
        if (next.phase().terminal()) core.journal().forgetInFlight(b.id());
        boolean back = next.phase() == Phase.ROLLED_BACK;
        core.record(e(), "rotation." + next.phase().word(), back ? AuditEvent.Outcome.FAILED : AuditEvent.Outcome.OK,
                back ? e().rollback() : null);
        core.listener().entered(b.id(), e().rotationId(), next.phase());
    }

    void save(JournalEntry next) throws StoreException {
        j = core.journal().save(j, next);
    }

    /**
     * Pauses the rotation until {@code until}: journals why (an error, or none for a planned wait)
     * and keeps the claim until then plus the lease, so that others take over only if this agent
     * does not come back.
     */
    Outcome.Waiting waitUntil(Instant until, String error, String reason) throws StoreException {
        Instant now = now();
        Instant back = until.isAfter(now) ? until : now;
        Instant lease = back.plus(core.settings().lease());
        JournalEntry e = e();
        boolean same = error == null && e.lastError() == null && until.equals(e.retryAt()) && core.self().equals(e.owner())
                && e.leaseUntil() != null && !e.leaseUntil().isBefore(lease.minus(core.settings().lease().dividedBy(2)));
        if (!same) { // a wait looked at again before it ends is not journaled again
            JournalEntry next = error == null ? e.waitingUntil(until, now) : e.failed(error, until, now);
            save(next.owned(core.self(), lease, now));
        }
        return new Outcome.Waiting(b.id(), e().rotationId(), e().phase(), until, reason);
    }

    /** Journals a failure before PROMOTED: the next turn of the loop rolls back. */
    void fail(String reason) throws StoreException {
        save(e().rollingBack(reason, now()));
        core.record(e(), "rotation.failed", AuditEvent.Outcome.FAILED, reason);
    }
}
