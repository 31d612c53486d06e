package io.keyward.rotation;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * The next step of a rotation in flight, decided from plain values: the journal entry, the
 * fleet's members and their acknowledgements, the kind of key source, and the time. It reads
 * nothing and changes nothing; {@link Run} carries the step out and journals it.
 */
public final class Decision {

    private Decision() {}

    /** The kind of key source (see {@link KeySource}). */
    public enum Source { GENERATED, ACCEPTED, ISSUED, MANUAL }

    /**
     * What the decision looks at besides the entry. {@code others} are the other members serving
     * the secret (this agent's own record among them is ignored: {@code myTargets} is the truth).
     * A member counts as silent only by records read after this agent saw the rotation promoted
     * ({@code othersReadSince}): one that came back before then holds the old value and must
     * acknowledge; an earlier read that says silent is made again ({@link Step.ReadMembers}).
     */
    public record Facts(Source source, String self, Set<String> myTargets, List<Fleet.Member> others,
                        boolean othersReadSince, Duration grace, Duration memberTimeout, Duration memberPoll, Instant now) {
        public Facts {
            Objects.requireNonNull(source, "source");
            Objects.requireNonNull(self, "self");
            myTargets = Set.copyOf(myTargets);
            others = List.copyOf(others);
        }
    }

    /** The steps, each carried out by {@link Run}. */
    public sealed interface Step {
        /** A failure before PROMOTED was journaled: discard the new value (revoke it where issued). */
        record RollBack(String reason) implements Step {}

        /** A version someone else wrote is live already: check it and go on to verify it. */
        record Adopt() implements Step {}

        /** Keep the old value, obtain the new one and store it as pending. */
        record Stage() implements Step {}

        /** Have the issuer accept the generated value ({@code accept}), or just journal the phase. */
        record Apply(boolean accept) implements Step {}

        record Verify() implements Step {}

        record Promote() implements Step {}

        /** Deliver the new version to these targets of this agent and journal their acknowledgements. */
        record Deliver(List<String> targets) implements Step {}

        /** Other live members have not acknowledged yet ("agent/target"); look again at {@code recheck}. */
        record AwaitMembers(List<String> pending, Instant recheck) implements Step {}

        /** A member looks silent in records read before the promotion was seen: read them again before it stops counting. */
        record ReadMembers() implements Step {}

        /** Members silent past the timeout stop counting: say so once for each. */
        record AnnounceSilent(List<String> agents) implements Step {}

        /** Every live member has the new version: journal DELIVERED, to retire after {@code retireAfter}. */
        record Delivered(Instant retireAfter) implements Step {}

        /** The grace period (counted from the last acknowledgement) runs until {@code until}. */
        record Wait(Instant until) implements Step {}

        /** Revoke the old value at the issuer. */
        record Revoke() implements Step {}

        /** A manual key: report the old one revocable and wait until it is seen or said revoked. */
        record AwaitRevocation() implements Step {}

        /** Nothing to retire: end the rotation, with a note for the operator if there is one. */
        record Finish(String note) implements Step {}
    }

    /** The mark in the journal that a silent member was announced. */
    static String silentMark(String agent) {
        return "silent:" + agent;
    }

    public static Step next(JournalEntry e, Facts f) {
        if (e.rollback() != null && !e.phase().promoted()) return new Step.RollBack(e.rollback());
        return switch (e.phase()) {
            case CLAIMED -> e.external() ? new Step.Adopt() : new Step.Stage();
            case STAGED -> new Step.Apply(f.source() == Source.ACCEPTED && !e.external());
            case APPLIED -> new Step.Verify();
            case VERIFIED -> new Step.Promote();
            case PROMOTED, DELIVERED -> afterPromotion(e, f);
            case RETIRED, ROLLED_BACK -> throw new IllegalArgumentException("rotation " + e.rotationId() + " has ended");
        };
    }

    /**
     * True when the member had not been heard of within the timeout when its record was read, by
     * a read made since the promotion was seen: it stops counting. A heartbeat is the member's
     * word at the time it wrote it; a read kept for a while must not age it.
     */
    static boolean silent(Fleet.Member m, Facts f) {
        return f.othersReadSince() && silentWhenRead(m, f);
    }

    private static boolean silentWhenRead(Fleet.Member m, Facts f) {
        return m.lastSeen().plus(f.memberTimeout()).isBefore(m.readAt());
    }

    /** The live members' targets ("agent/target") without an acknowledgement of the new version, this agent's first. */
    public static List<String> unacknowledged(JournalEntry e, Facts f) {
        List<String> pending = new ArrayList<>();
        for (String t : new TreeSet<>(f.myTargets())) if (e.ack(f.self(), t).isEmpty()) pending.add(f.self() + "/" + t);
        for (Fleet.Member m : f.others()) {
            if (m.agent().equals(f.self()) || silent(m, f)) continue;
            for (String t : new TreeSet<>(m.targets())) if (e.ack(m.agent(), t).isEmpty()) pending.add(m.agent() + "/" + t);
        }
        return pending;
    }

    private static Step afterPromotion(JournalEntry e, Facts f) {
        List<String> mine = new ArrayList<>();
        for (String t : new TreeSet<>(f.myTargets())) if (e.ack(f.self(), t).isEmpty()) mine.add(t);
        if (!mine.isEmpty()) return new Step.Deliver(mine);
        boolean nothingOld = e.liveVersionBefore() == 0;
        // Other members count only where an old value will be revoked or reported: with none, they catch up by their watch.
        boolean othersCount = !nothingOld && f.source() != Source.GENERATED;
        if (othersCount) {
            for (Fleet.Member m : f.others()) {
                if (m.agent().equals(f.self()) || m.targets().isEmpty()) continue;
                if (silentWhenRead(m, f) && !f.othersReadSince()) return new Step.ReadMembers();
            }
        }
        List<String> pending = othersCount ? unacknowledged(e, f) : List.of();
        if (!pending.isEmpty()) return new Step.AwaitMembers(pending, f.now().plus(f.memberPoll()));

        Instant lastAck = null;
        for (String t : f.myTargets()) lastAck = later(lastAck, e.ack(f.self(), t).orElseThrow().at());
        Set<String> silent = new TreeSet<>();
        for (Fleet.Member m : othersCount ? f.others() : List.<Fleet.Member>of()) {
            if (m.agent().equals(f.self()) || m.targets().isEmpty()) continue;
            if (silent(m, f)) {
                if (e.marked(silentMark(m.agent())).isEmpty()) silent.add(m.agent());
                continue;
            }
            for (String t : m.targets()) lastAck = later(lastAck, e.ack(m.agent(), t).orElseThrow().at());
        }
        if (!silent.isEmpty()) return new Step.AnnounceSilent(List.copyOf(silent));

        Duration grace = e.emergency() || nothingOld ? Duration.ZERO : f.grace();
        // The grace counts from the last acknowledgement; with no targets anywhere, from DELIVERED.
        Instant retireAfter = lastAck == null ? null : lastAck.plus(grace);
        if (e.phase() == Phase.PROMOTED) {
            return new Step.Delivered(retireAfter == null ? f.now().plus(grace) : retireAfter);
        }
        retireAfter = retireAfter == null ? e.retireAfter() : later(e.retireAfter(), retireAfter);
        if (retireAfter != null && f.now().isBefore(retireAfter)) return new Step.Wait(retireAfter);
        if (nothingOld) return new Step.Finish(null);
        return switch (f.source()) {
            case GENERATED -> new Step.Finish(null);
            case MANUAL -> new Step.AwaitRevocation();
            case ISSUED, ACCEPTED -> e.external()
                    ? new Step.Finish("v" + e.newVersion() + " was written in Vault outside keyward: old version "
                            + e.liveVersionBefore() + " is left to whoever replaced it")
                    : new Step.Revoke();
        };
    }

    private static Instant later(Instant a, Instant b) {
        return a == null || b.isAfter(a) ? b : a;
    }
}
