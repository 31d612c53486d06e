package io.keyward.rotation;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyward.policy.Policy;
import io.keyward.rotation.Decision.Source;
import io.keyward.rotation.Start.Verdict;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Whether a rotation starts: schedule, expiry, manual notice, the backoff after failed attempts, the window. */
final class StartTest {

    private static final Instant MONDAY_NOON = Instant.parse("2026-03-02T12:00:00Z");

    private static Policy.SecretPolicy policy(String extra) throws Exception {
        return Policy.parse("start.yaml", String.join("\n", "secrets:", "  - id: s", "    path: s",
                "    generator: { type: random }", "    schedule: { every: 30d" + extra + " }", "    retry_cap: 10m", ""))
                .secrets().get(0);
    }

    private static Start.Live written(Instant at) {
        return new Start.Live(3, Optional.of(at), Optional.empty(), -1);
    }

    /** The journal after {@code times} rolled-back attempts, the last ending at {@code lastEnd}. */
    private static Optional<JournalEntry> failed(int times, Instant lastEnd, String trigger) {
        List<JournalEntry.HistoryItem> h = new ArrayList<>();
        for (int i = 0; i < times; i++) {
            h.add(new JournalEntry.HistoryItem("r" + i, trigger, lastEnd, lastEnd, "rolled_back", 3, 3, "verify said no"));
        }
        return Optional.of(new JournalEntry("s", "r0", Phase.ROLLED_BACK, "a", lastEnd, lastEnd, lastEnd, trigger, false, 3,
                0, 0, null, Map.of(), false, 0, "verify said no", null, null, "verify said no", Map.of(), h));
    }

    @Test
    void decide_notDue_untilTheSchedule_forcedAlwaysClaims() throws Exception {
        Policy.SecretPolicy p = policy("");
        Instant last = MONDAY_NOON.minus(Duration.ofDays(10));
        assertThat(Start.decide(Optional.empty(), written(last), p, Source.ISSUED, Duration.ZERO, false, false, MONDAY_NOON))
                .isEqualTo(new Verdict.NotDue(last.plus(Duration.ofDays(30)), last.plus(Duration.ofDays(30))));
        assertThat(Start.decide(Optional.empty(), written(last), p, Source.ISSUED, Duration.ZERO, true, false, MONDAY_NOON))
                .isEqualTo(new Verdict.Claim());
    }

    @Test
    void decide_operatorExpiryEarlierThanTheSchedule_isTheDueTime() throws Exception {
        Instant expires = MONDAY_NOON.minusSeconds(1);
        Start.Live live = new Start.Live(3, Optional.of(MONDAY_NOON.minus(Duration.ofDays(1))), Optional.of(expires), -1);
        assertThat(Start.decide(Optional.empty(), live, policy(""), Source.ISSUED, Duration.ZERO, false, false, MONDAY_NOON))
                .isEqualTo(new Verdict.Claim());
        assertThat(Start.dueAt(live, policy(""), MONDAY_NOON)).isEqualTo(expires);
    }

    @Test
    void decide_manualKey_isAnnouncedItsNoticeAhead_onceForAVersion() throws Exception {
        Instant last = MONDAY_NOON.minus(Duration.ofDays(25));
        Start.Live live = written(last);
        assertThat(Start.decide(Optional.empty(), live, policy(""), Source.MANUAL, Duration.ofDays(7), false, false, MONDAY_NOON))
                .isEqualTo(new Verdict.AnnounceDue(last.plus(Duration.ofDays(30)), false));
        Start.Live announced = new Start.Live(3, Optional.of(last), Optional.empty(), 3);
        assertThat(Start.decide(Optional.empty(), announced, policy(""), Source.MANUAL, Duration.ofDays(7), false, false,
                MONDAY_NOON)).isEqualTo(new Verdict.AnnounceDue(last.plus(Duration.ofDays(30)), true));
        assertThat(Start.decide(Optional.empty(), live, policy(""), Source.MANUAL, Duration.ofDays(1), false, false, MONDAY_NOON))
                .isInstanceOf(Verdict.NotDue.class);
    }

    @Test
    void decide_afterFailedAttempts_waitsABackoffThatDoublesUpToTheCap() throws Exception {
        Policy.SecretPolicy p = policy("");
        Start.Live due = written(MONDAY_NOON.minus(Duration.ofDays(40)));
        for (int n = 1; n <= 6; n++) {
            Duration wait = Duration.ofMinutes(Math.min(10, 1L << (n - 1)));
            Optional<JournalEntry> last = failed(n, MONDAY_NOON, "schedule");
            assertThat(Start.decide(last, due, p, Source.ISSUED, Duration.ZERO, false, false, MONDAY_NOON.plus(wait).minusSeconds(1)))
                    .as("after %d failed attempts", n).isEqualTo(new Verdict.BackOff(n, MONDAY_NOON.plus(wait), "verify said no"));
            assertThat(Start.decide(last, due, p, Source.ISSUED, Duration.ZERO, false, false, MONDAY_NOON.plus(wait)))
                    .isEqualTo(new Verdict.Claim());
        }
    }

    @Test
    void decide_refusedVersionsWrittenBySomeoneElse_areNotFailedAttempts() throws Exception {
        assertThat(Start.decide(failed(3, MONDAY_NOON, JournalEntry.VAULT_CHANGE), written(MONDAY_NOON.minus(Duration.ofDays(40))),
                policy(""), Source.ISSUED, Duration.ZERO, false, false, MONDAY_NOON)).isEqualTo(new Verdict.Claim());
    }

    @Test
    void disagreeing_aLiveMemberWithAnotherPolicy_isFound_silentOnesAndThisAgentAreNot() {
        Duration timeout = Duration.ofMinutes(15);
        List<Fleet.Member> members = List.of(new Fleet.Member("me", MONDAY_NOON, java.util.Set.of("app"), "other"),
                new Fleet.Member("b", MONDAY_NOON, java.util.Set.of("app"), "mine"),
                new Fleet.Member("old", MONDAY_NOON.minus(Duration.ofMinutes(16)), java.util.Set.of("app"), "other"),
                new Fleet.Member("unknown", MONDAY_NOON, java.util.Set.of("app"), null));
        assertThat(Start.disagreeing("mine", "me", members, timeout, MONDAY_NOON)).isEmpty();
        List<Fleet.Member> differs = new ArrayList<>(members);
        differs.add(new Fleet.Member("c", MONDAY_NOON, java.util.Set.of("app"), "other"));
        assertThat(Start.disagreeing("mine", "me", differs, timeout, MONDAY_NOON)).map(Fleet.Member::agent).contains("c");
    }

    @Test
    void decide_dueOutsideTheWindow_waitsForItToOpen_andTheBackoffEndsInsideIt() throws Exception {
        Policy.SecretPolicy p = policy(", window: { days: [mon-fri], hours: \"02:00-05:00\", zone: UTC }");
        Start.Live due = written(MONDAY_NOON.minus(Duration.ofDays(40)));
        Instant tuesday2am = Instant.parse("2026-03-03T02:00:00Z");
        assertThat(Start.decide(Optional.empty(), due, p, Source.ISSUED, Duration.ZERO, false, false, MONDAY_NOON))
                .isEqualTo(new Verdict.OutsideWindow(tuesday2am));
        Instant failedAt = Instant.parse("2026-03-03T04:59:30Z");
        assertThat(Start.nextAttempt(failed(1, failedAt, "schedule").orElseThrow().history(), p.retryCap(),
                p.schedule().window())).contains(Instant.parse("2026-03-04T02:00:00Z"));
    }
}
