package io.keyward.rotation;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The outage of a single-key secret: from the old key's first refusal (or the submit) to the last acknowledgement. */
final class OutageTest {

    private static final Instant SUBMIT = Instant.parse("2026-12-03T10:00:00Z");

    private static JournalEntry delivered(Map<String, Instant> acks) {
        JournalEntry e = JournalEntry.start("k", "r1", "a", SUBMIT, SUBMIT.plusSeconds(120), "submit", false, 1, List.of())
                .promotedAs(2).to(Phase.DELIVERED, SUBMIT);
        for (Map.Entry<String, Instant> a : acks.entrySet()) {
            e = e.acked(a.getKey(), Map.of("app", new JournalEntry.Ack(2, a.getValue())), a.getValue());
        }
        return e;
    }

    @Test
    void runsFromTheFirstRefusal_toTheLastAckOfAnyMember() {
        JournalEntry e = delivered(Map.of("host-a", SUBMIT.plusMillis(400), "host-b", SUBMIT.plusMillis(1900)));
        assertThat(Outage.of(e, Optional.of(SUBMIT.minusSeconds(5)))).contains(Duration.ofMillis(6900));
    }

    @Test
    void runsFromTheSubmit_whenNothingSawTheOldKeyRefused() {
        JournalEntry e = delivered(Map.of("host-a", SUBMIT.plusMillis(700)));
        assertThat(Outage.of(e, Optional.empty())).contains(Duration.ofMillis(700));
        // a refusal noted after the submit (a probe racing it) does not shorten the outage
        assertThat(Outage.of(e, Optional.of(SUBMIT.plusMillis(300)))).contains(Duration.ofMillis(700));
    }

    @Test
    void anAckOfAnOlderVersion_doesNotEndIt_andNoAckMeansNoOutageYet() {
        JournalEntry e = delivered(Map.of("host-a", SUBMIT.plusMillis(700)))
                .acked("host-b", Map.of("app", new JournalEntry.Ack(1, SUBMIT.plusSeconds(9))), SUBMIT.plusSeconds(9));
        assertThat(Outage.of(e, Optional.empty())).contains(Duration.ofMillis(700));
        assertThat(Outage.of(delivered(Map.of()), Optional.empty())).isEmpty();
    }

    @Test
    void isShownInSecondsOrMinutes() {
        assertThat(Outage.format(Duration.ofMillis(3240))).isEqualTo("3.2 s");
        assertThat(Outage.format(Duration.ofSeconds(245))).isEqualTo("4 min 05 s");
    }
}
