package io.keyward.policy;

import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.BitSet;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * An ordinary 5-field cron expression (minute hour day-of-month month day-of-week) in a time
 * zone. Lists, ranges, steps, {@code *}, month and day names; day-of-week 0 and 7 are Sunday. As
 * in cron, when both day fields are restricted a day matches if either does.
 */
public record Cron(String expression, ZoneId zone, BitSet minutes, BitSet hours, BitSet days, BitSet months,
                   BitSet weekdays, boolean anyDay, boolean anyWeekday) {

    private static final Map<String, Integer> MONTHS = Map.ofEntries(Map.entry("jan", 1), Map.entry("feb", 2),
            Map.entry("mar", 3), Map.entry("apr", 4), Map.entry("may", 5), Map.entry("jun", 6), Map.entry("jul", 7),
            Map.entry("aug", 8), Map.entry("sep", 9), Map.entry("oct", 10), Map.entry("nov", 11), Map.entry("dec", 12));
    private static final Map<String, Integer> WEEKDAYS = Map.of("sun", 0, "mon", 1, "tue", 2, "wed", 3, "thu", 4,
            "fri", 5, "sat", 6);

    /** Parses, or throws {@link IllegalArgumentException} naming the bad field. */
    public static Cron parse(String expression, ZoneId zone) {
        String[] f = expression.trim().split("\\s+");
        if (f.length != 5) {
            throw new IllegalArgumentException("cron '" + expression + "' has " + f.length
                    + " fields; write 5: minute hour day-of-month month day-of-week");
        }
        BitSet weekdays = field(f[4], 0, 7, WEEKDAYS, "day-of-week");
        if (weekdays.get(7)) {
            weekdays.set(0);
            weekdays.clear(7);
        }
        return new Cron(expression.trim(), zone, field(f[0], 0, 59, Map.of(), "minute"), field(f[1], 0, 23, Map.of(), "hour"),
                field(f[2], 1, 31, Map.of(), "day-of-month"), field(f[3], 1, 12, MONTHS, "month"), weekdays,
                f[2].equals("*"), f[4].equals("*"));
    }

    /** The first fire time strictly after {@code after}, or empty if none in the next five years. */
    public Optional<ZonedDateTime> next(java.time.Instant after) {
        ZonedDateTime t = after.atZone(zone).truncatedTo(ChronoUnit.MINUTES).plusMinutes(1);
        ZonedDateTime limit = t.plusYears(5);
        while (t.isBefore(limit)) {
            if (!months.get(t.getMonthValue())) {
                t = t.withDayOfMonth(1).plusMonths(1).truncatedTo(ChronoUnit.DAYS);
                continue;
            }
            if (!dayMatches(t.toLocalDate())) {
                t = t.plusDays(1).truncatedTo(ChronoUnit.DAYS);
                continue;
            }
            if (!hours.get(t.getHour())) {
                t = t.plusHours(1).truncatedTo(ChronoUnit.HOURS);
                continue;
            }
            if (!minutes.get(t.getMinute())) {
                t = t.plusMinutes(1);
                continue;
            }
            return Optional.of(t);
        }
        return Optional.empty();
    }

    /** Whether the expression can ever fire (e.g. "0 0 31 2 *" cannot). */
    public boolean canFire() {
        if (!anyWeekday) return true;
        for (int m = months.nextSetBit(1); m >= 0; m = months.nextSetBit(m + 1)) {
            int maxDay = java.time.Month.of(m).maxLength();
            for (int d = days.nextSetBit(1); d >= 0 && d <= maxDay; d = days.nextSetBit(d + 1)) {
                return true;
            }
        }
        return false;
    }

    private boolean dayMatches(LocalDate d) {
        boolean dom = days.get(d.getDayOfMonth());
        boolean dow = weekdays.get(d.getDayOfWeek().getValue() % 7);
        if (anyDay && anyWeekday) return true;
        if (anyDay) return dow;
        if (anyWeekday) return dom;
        return dom || dow;
    }

    private static BitSet field(String text, int min, int max, Map<String, Integer> names, String what) {
        BitSet out = new BitSet(max + 1);
        for (String part : text.split(",", -1)) {
            String range = part;
            int step = 1;
            int slash = part.indexOf('/');
            if (slash >= 0) {
                range = part.substring(0, slash);
                step = number(part.substring(slash + 1), 1, max, Map.of(), what, text);
            }
            int lo;
            int hi;
            if (range.equals("*")) {
                lo = min;
                hi = max;
            } else if (range.contains("-")) {
                String[] ab = range.split("-", -1);
                if (ab.length != 2) throw bad(what, text, "a range is written a-b");
                lo = number(ab[0], min, max, names, what, text);
                hi = number(ab[1], min, max, names, what, text);
                if (hi < lo) throw bad(what, text, "range " + range + " runs backwards");
            } else {
                lo = number(range, min, max, names, what, text);
                hi = slash >= 0 ? max : lo;
            }
            for (int i = lo; i <= hi; i += step) out.set(i);
        }
        return out;
    }

    private static int number(String s, int min, int max, Map<String, Integer> names, String what, String text) {
        Integer named = names.get(s.toLowerCase(Locale.ROOT));
        if (named != null) return named;
        try {
            int n = Integer.parseInt(s);
            if (n < min || n > max) throw bad(what, text, n + " is outside " + min + "-" + max);
            return n;
        } catch (NumberFormatException e) {
            throw bad(what, text, "'" + s + "' is not a number" + (names.isEmpty() ? "" : " or name"));
        }
    }

    private static IllegalArgumentException bad(String what, String text, String why) {
        return new IllegalArgumentException("cron " + what + " field '" + text + "': " + why);
    }

    @Override
    public String toString() {
        return expression + " (" + zone + ")";
    }
}
