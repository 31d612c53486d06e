package io.keyward.policy;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Durations as operators write them: {@code 500ms}, {@code 30s}, {@code 5m}, {@code 2h}, {@code 30d}, {@code 1h30m}. */
public final class Durations {

    private static final Pattern PART = Pattern.compile("(\\d+)(ms|s|m|h|d|w)");

    private Durations() {}

    /** Parses a duration, or throws {@link IllegalArgumentException} saying what is accepted. */
    public static Duration parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("an empty duration");
        }
        String s = text.trim();
        Matcher m = PART.matcher(s);
        Duration total = Duration.ZERO;
        int at = 0;
        while (at < s.length()) {
            if (!m.find(at) || m.start() != at) {
                throw new IllegalArgumentException("'" + text + "' is not a duration");
            }
            long n = Long.parseLong(m.group(1));
            total = total.plus(switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                case "d" -> Duration.ofDays(n);
                case "w" -> Duration.ofDays(7 * n);
                default -> throw new IllegalStateException(m.group(2));
            });
            at = m.end();
        }
        return total;
    }

    /** The shortest text that {@link #parse} reads back as the same duration. */
    public static String format(Duration d) {
        if (d.isZero()) return "0s";
        StringBuilder b = new StringBuilder();
        long days = d.toDays();
        if (days > 0) b.append(days).append('d');
        Duration rest = d.minusDays(days);
        if (rest.toHoursPart() > 0) b.append(rest.toHoursPart()).append('h');
        if (rest.toMinutesPart() > 0) b.append(rest.toMinutesPart()).append('m');
        if (rest.toSecondsPart() > 0) b.append(rest.toSecondsPart()).append('s');
        if (rest.toMillisPart() > 0) b.append(rest.toMillisPart()).append("ms");
        return b.toString();
    }
}
