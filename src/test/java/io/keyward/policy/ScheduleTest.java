package io.keyward.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.EnumSet;
import java.util.Optional;
import org.junit.jupiter.api.Test;

final class ScheduleTest {

    private static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");

    @Test
    void cron_nextFire_inItsZone() {
        Cron c = Cron.parse("30 4 1 * *", ZoneId.of("UTC"));
        assertThat(c.next(Instant.parse("2026-03-15T10:00:00Z"))).hasValueSatisfying(t ->
                assertThat(t.toInstant()).isEqualTo(Instant.parse("2026-04-01T04:30:00Z")));
        Cron mondays = Cron.parse("0 3 * * mon", BERLIN);
        assertThat(mondays.next(Instant.parse("2026-03-18T12:00:00Z")).orElseThrow().toInstant())
                .isEqualTo(Instant.parse("2026-03-23T02:00:00Z"));
    }

    @Test
    void cron_stepsRangesListsAndSunday() {
        Cron c = Cron.parse("*/15 9-17 * * 1-5", ZoneId.of("UTC"));
        assertThat(c.next(Instant.parse("2026-03-20T17:50:00Z")).orElseThrow().toInstant()) // Friday evening
                .isEqualTo(Instant.parse("2026-03-23T09:00:00Z"));
        assertThat(Cron.parse("0 0 * * 7", ZoneId.of("UTC")).next(Instant.parse("2026-03-20T00:00:00Z"))
                .orElseThrow().getDayOfWeek()).isEqualTo(DayOfWeek.SUNDAY);
        assertThat(Cron.parse("0 0 13 * fri", ZoneId.of("UTC")).next(Instant.parse("2026-03-01T00:00:00Z"))
                .orElseThrow().toInstant()).isEqualTo(Instant.parse("2026-03-06T00:00:00Z")); // either day field
    }

    @Test
    void cron_badFields_sayWhich() {
        assertThatThrownBy(() -> Cron.parse("0 24 * * *", ZoneId.of("UTC"))).hasMessageContaining("hour field '24'");
        assertThatThrownBy(() -> Cron.parse("0 0 * 13 *", ZoneId.of("UTC"))).hasMessageContaining("month");
        assertThatThrownBy(() -> Cron.parse("5-1 * * * *", ZoneId.of("UTC"))).hasMessageContaining("runs backwards");
        assertThat(Cron.parse("0 0 30 2 *", ZoneId.of("UTC")).canFire()).isFalse();
        assertThat(Cron.parse("0 0 29 2 *", ZoneId.of("UTC")).canFire()).isTrue();
    }

    @Test
    void window_overMidnight_andNextOpen() {
        Window w = new Window(EnumSet.of(DayOfWeek.FRIDAY), LocalTime.of(22, 0), LocalTime.of(2, 0), ZoneId.of("UTC"));
        assertThat(w.contains(Instant.parse("2026-03-20T23:00:00Z"))).isTrue(); // Friday 23:00
        assertThat(w.contains(Instant.parse("2026-03-21T01:00:00Z"))).isTrue(); // Saturday 01:00 belongs to Friday
        assertThat(w.contains(Instant.parse("2026-03-21T03:00:00Z"))).isFalse();
        assertThat(w.nextOpen(Instant.parse("2026-03-21T03:00:00Z"))).isEqualTo(Instant.parse("2026-03-27T22:00:00Z"));
    }

    @Test
    void start_isDueTime_movedIntoTheWindow_plusJitter() {
        Window nights = new Window(EnumSet.allOf(DayOfWeek.class), LocalTime.of(2, 0), LocalTime.of(5, 0), ZoneId.of("UTC"));
        Schedule s = new Schedule(Optional.of(Duration.ofDays(30)), Optional.empty(), Optional.of(nights),
                Duration.ofMinutes(20), Optional.empty());
        Instant last = Instant.parse("2026-01-01T12:00:00Z");

        assertThat(s.due(last)).isEqualTo(Instant.parse("2026-01-31T12:00:00Z"));
        assertThat(s.start(last, Instant.parse("2026-01-10T00:00:00Z"), 0.5))
                .isEqualTo(Instant.parse("2026-02-01T02:00:00Z"));
        // overdue: starts now (in the window), plus jitter
        assertThat(s.start(last, Instant.parse("2026-03-01T03:00:00Z"), 0.5))
                .isEqualTo(Instant.parse("2026-03-01T03:10:00Z"));
    }

    @Test
    void due_isTheEarliestOfEveryCronAndMaxAge() {
        Instant last = Instant.parse("2026-01-01T00:00:00Z");
        Schedule s = new Schedule(Optional.of(Duration.ofDays(30)), Optional.of(Cron.parse("0 3 15 * *", ZoneId.of("UTC"))),
                Optional.empty(), Duration.ZERO, Optional.of(Duration.ofDays(10)));
        assertThat(s.due(last)).isEqualTo(Instant.parse("2026-01-11T00:00:00Z"));
    }
}
