package io.keyward.policy;

/** One thing wrong in a configuration file: where, what, and what would fix it. */
public record Problem(YamlNode.Mark mark, String message, String fix) implements Comparable<Problem> {

    public Problem {
        if (mark == null || message == null) {
            throw new IllegalArgumentException("a problem needs a place and a message");
        }
    }

    @Override
    public String toString() {
        return mark + ": " + message + (fix == null || fix.isBlank() ? "" : " (" + fix + ")");
    }

    @Override
    public int compareTo(Problem o) {
        int c = mark.file().compareTo(o.mark.file());
        if (c == 0) c = Integer.compare(mark.line(), o.mark.line());
        if (c == 0) c = Integer.compare(mark.column(), o.mark.column());
        return c;
    }
}
