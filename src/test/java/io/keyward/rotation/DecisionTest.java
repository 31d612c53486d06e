package io.keyward.rotation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keyward.rotation.Decision.Source;
import io.keyward.rotation.Decision.Step;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The next step of a rotation, from plain values only: every phase, every source, the fleet's acknowledgements. */
final class DecisionTest {

    private static final Instant T0 = Instant.parse("2026-03-02T10:00:00Z");
    private static final Duration GRACE = Duration.ofMinutes(10);
    private static final Duration TIMEOUT = Duration.ofMinutes(15);

    private static JournalEntry entry(Phase phase, int before) {
        JournalEntry e = JournalEntry.start("s", "r1", "a", T0, T0.plusSeconds(120), "schedule", false, before, List.of());
        if (phase.ordinal() >= Phase.PROMOTED.ordinal()) e = e.promotedAs(before + 1);
        return phase == Phase.CLAIMED ? e : e.to(phase, T0);
    }

    private static Decision.Facts facts(Source source, Set<String> mine, List<Fleet.Member> others, Instant now) {
        // the members' records read at the time of the decision, after the rotation was promoted
        List<Fleet.Member> read = others.stream()
                .map(m -> new Fleet.Member(m.agent(), m.lastSeen(), m.targets(), m.policy(), now)).toList();
        return new Decision.Facts(source, "a", mine, read, true, GRACE, TIMEOUT, Duration.ofMinutes(1), now);
    }

    /** An issued key with target app here, and the members as they were read ({@code since}: after the promotion was seen). */
    private static Decision.Facts asRead(List<Fleet.Member> others, boolean since, Instant now) {
        return new Decision.Facts(Source.ISSUED, "a", Set.of("app"), others, since, GRACE, TIMEOUT, Duration.ofMinutes(1), now);
    }

    private static Fleet.Member member(String agent, Instant seen, String... targets) {
        return new Fleet.Member(agent, seen, Set.of(targets));
    }

    private static JournalEntry acked(JournalEntry e, String agent, String target, Instant at) {
        return e.acked(agent, Map.of(target, new JournalEntry.Ack(e.newVersion(), at)), at);
    }

    @Test
    void next_eachPhaseBeforePromotion_hasItsStep() {
        Decision.Facts f = facts(Source.ISSUED, Set.of("app"), List.of(), T0);
        assertThat(Decision.next(entry(Phase.CLAIMED, 1), f)).isEqualTo(new Step.Stage());
        assertThat(Decision.next(entry(Phase.STAGED, 1), f)).isEqualTo(new Step.Apply(false));
        assertThat(Decision.next(entry(Phase.STAGED, 1), facts(Source.ACCEPTED, Set.of(), List.of(), T0)))
                .isEqualTo(new Step.Apply(true));
        assertThat(Decision.next(entry(Phase.APPLIED, 1), f)).isEqualTo(new Step.Verify());
        assertThat(Decision.next(entry(Phase.VERIFIED, 1), f)).isEqualTo(new Step.Promote());
    }

    @Test
    void next_versionWrittenBySomeoneElse_isAdoptedNotStaged() {
        JournalEntry e = JournalEntry.start("s", "r1", "a", T0, T0, JournalEntry.VAULT_CHANGE, false, 1, List.of())
                .promotedAs(2);
        assertThat(Decision.next(e, facts(Source.ISSUED, Set.of(), List.of(), T0))).isEqualTo(new Step.Adopt());
        assertThat(Decision.next(e.to(Phase.STAGED, T0), facts(Source.ACCEPTED, Set.of(), List.of(), T0)))
                .as("nothing to accept: keyward did not make it").isEqualTo(new Step.Apply(false));
    }

    @Test
    void next_failureBeforePromotion_rollsBack_afterPromotion_goesForward() {
        Decision.Facts f = facts(Source.ISSUED, Set.of("app"), List.of(), T0);
        assertThat(Decision.next(entry(Phase.APPLIED, 1).rollingBack("verify said no", T0), f))
                .isEqualTo(new Step.RollBack("verify said no"));
        assertThat(Decision.next(entry(Phase.PROMOTED, 1).rollingBack("late", T0), f)).isInstanceOf(Step.Deliver.class);
    }

    @Test
    void next_endedRotation_isAMisuse() {
        JournalEntry done = entry(Phase.DELIVERED, 1).finished(Phase.RETIRED, "completed", null, T0);
        assertThatThrownBy(() -> Decision.next(done, facts(Source.ISSUED, Set.of(), List.of(), T0)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("r1 has ended");
    }

    @Test
    void promoted_deliversToMyUnacknowledgedTargetsFirst() {
        JournalEntry e = acked(entry(Phase.PROMOTED, 1), "a", "app", T0);
        assertThat(Decision.next(e, facts(Source.ISSUED, Set.of("app", "web"), List.of(), T0)))
                .isEqualTo(new Step.Deliver(List.of("web")));
    }

    @Test
    void promoted_anotherHostsTargetOfTheSameId_isNotAcknowledgedByMine() {
        JournalEntry e = acked(entry(Phase.PROMOTED, 1), "a", "app", T0);
        Decision.Facts f = facts(Source.ISSUED, Set.of("app"), List.of(member("b", T0, "app")), T0);
        assertThat(Decision.next(e, f)).isEqualTo(new Step.AwaitMembers(List.of("b/app"), T0.plusSeconds(60)));
        assertThat(Decision.unacknowledged(e, f)).containsExactly("b/app");
    }

    @Test
    void promoted_everyLiveMemberAcknowledged_deliveredWithGraceFromTheLastAck() {
        JournalEntry e = acked(acked(entry(Phase.PROMOTED, 1), "a", "app", T0), "b", "app", T0.plusSeconds(300));
        Decision.Facts f = facts(Source.ISSUED, Set.of("app"), List.of(member("b", T0, "app")), T0.plusSeconds(301));
        assertThat(Decision.next(e, f)).isEqualTo(new Step.Delivered(T0.plusSeconds(300).plus(GRACE)));
    }

    @Test
    void promoted_aNewerVersionCountsAsAcknowledged() {
        JournalEntry e = acked(entry(Phase.PROMOTED, 1), "a", "app", T0);
        e = e.acked("b", Map.of("app", new JournalEntry.Ack(e.newVersion() + 3, T0)), T0);
        Decision.Facts f = facts(Source.ISSUED, Set.of("app"), List.of(member("b", T0, "app")), T0);
        assertThat(Decision.next(e, f)).isInstanceOf(Step.Delivered.class);
    }

    @Test
    void promoted_silentMember_stopsCounting_andIsAnnouncedOnce() {
        JournalEntry e = acked(entry(Phase.PROMOTED, 1), "a", "app", T0);
        Instant now = T0.plus(TIMEOUT).plusSeconds(1);
        Decision.Facts f = facts(Source.ISSUED, Set.of("app"), List.of(member("b", T0, "app"), member("c", now, "app")), now);
        assertThat(Decision.next(e, f)).as("c is live and has not acknowledged").isEqualTo(
                new Step.AwaitMembers(List.of("c/app"), now.plusSeconds(60)));
        JournalEntry cDone = acked(e, "c", "app", now);
        assertThat(Decision.next(cDone, f)).isEqualTo(new Step.AnnounceSilent(List.of("b")));
        assertThat(Decision.next(cDone.mark(Decision.silentMark("b"), now), f)).isInstanceOf(Step.Delivered.class);
    }


    @Test
    void promoted_aMemberIsSilentByTheTimeItsRecordWasRead_notByHowOldTheReadIs() {
        JournalEntry e = acked(entry(Phase.PROMOTED, 1), "a", "app", T0);
        Instant now = T0.plus(TIMEOUT).plusSeconds(30);
        // b's heartbeat was 20 s old when its record was read; the read is kept, and now it is older than the timeout
        Fleet.Member b = new Fleet.Member("b", T0, Set.of("app"), null, T0.plusSeconds(20));
        Decision.Facts f = asRead(List.of(b), true, now);
        assertThat(Decision.next(e, f)).as("b was live when read: it counts").isEqualTo(
                new Step.AwaitMembers(List.of("b/app"), now.plusSeconds(60)));
    }

    @Test
    void promoted_aMemberSilentInARecordReadBeforeThePromotionWasSeen_isReadAgain() {
        JournalEntry e = acked(entry(Phase.PROMOTED, 1), "a", "app", T0);
        Instant seen = T0.plus(TIMEOUT).plusSeconds(60);
        // read when b had been silent past the timeout, but before this agent saw the rotation promoted: b may be back
        Fleet.Member old = new Fleet.Member("b", T0, Set.of("app"), null, seen.minusSeconds(1));
        Decision.Facts f = asRead(List.of(old), false, seen.plusSeconds(5));
        assertThat(Decision.next(e, f)).isEqualTo(new Step.ReadMembers());
        Fleet.Member fresh = new Fleet.Member("b", T0, Set.of("app"), null, seen.plusSeconds(5));
        Decision.Facts again = asRead(List.of(fresh), true, seen.plusSeconds(5));
        assertThat(Decision.next(e, again)).as("silent by a read made since").isEqualTo(new Step.AnnounceSilent(List.of("b")));
    }
    @Test
    void promoted_firstValueOrGeneratedValue_doesNotWaitForOtherMembers() {
        JournalEntry first = acked(entry(Phase.PROMOTED, 0), "a", "app", T0);
        List<Fleet.Member> b = List.of(member("b", T0, "app"));
        assertThat(Decision.next(first, facts(Source.ISSUED, Set.of("app"), b, T0))).isEqualTo(new Step.Delivered(T0));
        JournalEntry generated = acked(entry(Phase.PROMOTED, 3), "a", "app", T0);
        assertThat(Decision.next(generated, facts(Source.GENERATED, Set.of("app"), b, T0)))
                .isEqualTo(new Step.Delivered(T0.plus(GRACE)));
    }

    @Test
    void promoted_noTargetsAnywhere_graceCountsFromNow() {
        assertThat(Decision.next(entry(Phase.PROMOTED, 1), facts(Source.ISSUED, Set.of(), List.of(), T0)))
                .isEqualTo(new Step.Delivered(T0.plus(GRACE)));
    }

    @Test
    void delivered_waitsForTheGrace_thenRetiresBySource() {
        JournalEntry e = acked(entry(Phase.DELIVERED, 1), "a", "app", T0).retiringAfter(T0.plus(GRACE));
        assertThat(Decision.next(e, facts(Source.ISSUED, Set.of("app"), List.of(), T0.plusSeconds(1))))
                .isEqualTo(new Step.Wait(T0.plus(GRACE)));
        Instant later = T0.plus(GRACE);
        assertThat(Decision.next(e, facts(Source.ISSUED, Set.of("app"), List.of(), later))).isEqualTo(new Step.Revoke());
        assertThat(Decision.next(e, facts(Source.ACCEPTED, Set.of("app"), List.of(), later))).isEqualTo(new Step.Revoke());
        assertThat(Decision.next(e, facts(Source.MANUAL, Set.of("app"), List.of(), later))).isEqualTo(new Step.AwaitRevocation());
        assertThat(Decision.next(e, facts(Source.GENERATED, Set.of("app"), List.of(), later))).isEqualTo(new Step.Finish(null));
    }

    @Test
    void delivered_aMemberThatJoinsDuringTheGrace_isWaitedFor_andTheGraceRestartsFromItsAck() {
        JournalEntry e = acked(entry(Phase.DELIVERED, 1), "a", "app", T0).retiringAfter(T0.plus(GRACE));
        Instant joined = T0.plusSeconds(400);
        List<Fleet.Member> c = List.of(member("c", joined, "app"));
        assertThat(Decision.next(e, facts(Source.ISSUED, Set.of("app"), c, joined)))
                .isEqualTo(new Step.AwaitMembers(List.of("c/app"), joined.plusSeconds(60)));
        JournalEntry cAcked = acked(e, "c", "app", joined.plusSeconds(30));
        assertThat(Decision.next(cAcked, facts(Source.ISSUED, Set.of("app"), c, T0.plus(GRACE))))
                .isEqualTo(new Step.Wait(joined.plusSeconds(30).plus(GRACE)));
    }

    @Test
    void delivered_emergency_retiresWithoutGrace() {
        JournalEntry e = acked(entry(Phase.DELIVERED, 1).asEmergency(), "a", "app", T0).retiringAfter(T0);
        assertThat(Decision.next(e, facts(Source.ISSUED, Set.of("app"), List.of(), T0))).isEqualTo(new Step.Revoke());
    }

    @Test
    void delivered_versionWrittenBySomeoneElse_leavesTheOldIssuedKeyToThem() {
        JournalEntry e = JournalEntry.start("s", "r1", "a", T0, T0, JournalEntry.VAULT_CHANGE, false, 2, List.of())
                .promotedAs(3).to(Phase.DELIVERED, T0).retiringAfter(T0);
        Step s = Decision.next(e, facts(Source.ISSUED, Set.of(), List.of(), T0));
        assertThat(s).isInstanceOf(Step.Finish.class);
        assertThat(((Step.Finish) s).note()).contains("left to whoever replaced it");
        assertThat(Decision.next(e, facts(Source.MANUAL, Set.of(), List.of(), T0))).isEqualTo(new Step.AwaitRevocation());
    }
}
