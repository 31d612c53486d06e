package io.keyward.policy;

import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * When rotations may start: some days of the week, between two times of day, in a time zone.
 * {@code from} after {@code to} spans midnight (22:00-02:00). {@code from == to} is all day.
 */
public record Window(Set<DayOfWeek> days, LocalTime from, LocalTime to, ZoneId zone) {

    public Window {
        days = days.isEmpty() ? EnumSet.noneOf(DayOfWeek.class) : EnumSet.copyOf(days);
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(to, "to");
        Objects.requireNonNull(zone, "zone");
    }

    public boolean canOpen() {
        return !days.isEmpty();
    }

    /** True if {@code t} lies inside the window. */
    public boolean contains(Instant t) {
        ZonedDateTime z = t.atZone(zone);
        LocalTime time = z.toLocalTime();
        if (from.equals(to)) return days.contains(z.getDayOfWeek());
        if (from.isBefore(to)) {
            return days.contains(z.getDayOfWeek()) && !time.isBefore(from) && time.isBefore(to);
        }
        // spans midnight: the part after midnight belongs to the previous day's window
        if (!time.isBefore(from)) return days.contains(z.getDayOfWeek());
        if (time.isBefore(to)) return days.contains(z.getDayOfWeek().minus(1));
        return false;
    }

    /** The first instant at or after {@code t} inside the window (t itself if it is inside). */
    public Instant nextOpen(Instant t) {
        if (!canOpen()) throw new IllegalStateException("window never opens");
        if (contains(t)) return t;
        ZonedDateTime day = t.atZone(zone).truncatedTo(ChronoUnit.DAYS);
        for (int i = 0; i < 9; i++) {
            ZonedDateTime candidate = day.plusDays(i).with(from);
            if (!candidate.toInstant().isBefore(t) && days.contains(candidate.getDayOfWeek())) {
                return candidate.toInstant();
            }
        }
        throw new IllegalStateException("window never opens");
    }

    @Override
    public String toString() {
        return days + " " + from + "-" + to + " " + zone;
    }
}
