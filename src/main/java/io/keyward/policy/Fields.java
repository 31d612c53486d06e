package io.keyward.policy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * Reads the keys of one YAML mapping into typed values, collecting every problem in a shared
 * {@link Problems} instead of stopping at the first. Call {@link #finish()} last: it reports
 * keys that no getter asked for, with the nearest known key as the suggested fix.
 */
public final class Fields {

    private final YamlNode.Mapping map;
    private final String where;
    private final Problems problems;
    private final Set<String> known = new HashSet<>();

    private Fields(YamlNode.Mapping map, String where, Problems problems) {
        this.map = map;
        this.where = where;
        this.problems = problems;
    }

    /** Starts reading {@code node} as a mapping named {@code where} in messages ("vault.tls"). */
    public static Optional<Fields> of(YamlNode node, String where, Problems problems) {
        if (node instanceof YamlNode.Mapping m) {
            return Optional.of(new Fields(m, where, problems));
        }
        problems.add(node.mark(), where + " must be a mapping of keys, not " + node.kind(),
                "indent its settings under '" + leaf(where) + ":'");
        return Optional.empty();
    }

    public YamlNode.Mark mark() {
        return map.mark();
    }

    public String where() {
        return where;
    }

    public Problems problems() {
        return problems;
    }

    public boolean has(String key) {
        known.add(key);
        YamlNode n = map.values().get(key);
        return n != null && !(n instanceof YamlNode.Scalar s && s.type() == YamlNode.Scalar.Type.NULL);
    }

    /** The raw node, marking the key as known. */
    public Optional<YamlNode> node(String key) {
        known.add(key);
        return Optional.ofNullable(map.values().get(key))
                .filter(n -> !(n instanceof YamlNode.Scalar s && s.type() == YamlNode.Scalar.Type.NULL));
    }

    public YamlNode.Mark markOf(String key) {
        YamlNode n = map.values().get(key);
        return n != null ? n.mark() : map.mark();
    }

    public Optional<String> string(String key) {
        return node(key).flatMap(n -> scalarText(key, n));
    }

    public String string(String key, String fallback) {
        return string(key).orElse(fallback);
    }

    /** A required text; reports it missing and returns null when absent. */
    public String requiredString(String key, String fix) {
        Optional<String> v = string(key);
        if (v.isEmpty() && !map.values().containsKey(key)) {
            problems.add(map.mark(), where + "." + key + " is missing", fix);
        } else if (v.isEmpty() && map.values().get(key) instanceof YamlNode.Scalar s
                && s.type() == YamlNode.Scalar.Type.NULL) {
            problems.add(s.mark(), where + "." + key + " is empty", fix);
        }
        return v.orElse(null);
    }

    public Optional<Path> path(String key) {
        return string(key).flatMap(s -> {
            if (s.isBlank()) {
                problems.add(markOf(key), where + "." + key + " is an empty path", "give a file path");
                return Optional.empty();
            }
            return Optional.of(Path.of(s));
        });
    }

    public Optional<Duration> duration(String key) {
        return string(key).flatMap(s -> {
            try {
                return Optional.of(Durations.parse(s));
            } catch (IllegalArgumentException e) {
                problems.add(markOf(key), where + "." + key + ": " + e.getMessage(),
                        "write a number and a unit, like 30s, 5m, 12h or 30d");
                return Optional.empty();
            }
        });
    }

    public Duration duration(String key, Duration fallback, Duration min, Duration max) {
        Optional<Duration> d = duration(key);
        if (d.isPresent() && (d.get().compareTo(min) < 0 || d.get().compareTo(max) > 0)) {
            problems.add(markOf(key), where + "." + key + " is " + Durations.format(d.get())
                    + ", outside " + Durations.format(min) + ".." + Durations.format(max), null);
            return fallback;
        }
        return d.orElse(fallback);
    }

    public int integer(String key, int fallback, int min, int max) {
        Optional<YamlNode> n = node(key);
        if (n.isEmpty()) return fallback;
        if (n.get() instanceof YamlNode.Scalar s && s.type() == YamlNode.Scalar.Type.NUMBER) {
            try {
                int v = Integer.parseInt(s.text());
                if (v < min || v > max) {
                    problems.add(s.mark(), where + "." + key + " is " + v + ", outside " + min + ".." + max, null);
                    return fallback;
                }
                return v;
            } catch (NumberFormatException e) {
                // fall through to the shared message
            }
        }
        problems.add(n.get().mark(), where + "." + key + " must be a whole number, not " + n.get().kind(), null);
        return fallback;
    }

    public boolean bool(String key, boolean fallback) {
        Optional<YamlNode> n = node(key);
        if (n.isEmpty()) return fallback;
        if (n.get() instanceof YamlNode.Scalar s && s.type() == YamlNode.Scalar.Type.BOOLEAN) {
            return Boolean.parseBoolean(s.text());
        }
        problems.add(n.get().mark(), where + "." + key + " must be true or false, not " + n.get().kind(), null);
        return fallback;
    }

    /** A choice among fixed words, case-insensitive. */
    public <E extends Enum<E>> Optional<E> choice(String key, Class<E> type) {
        return string(key).flatMap(s -> {
            for (E e : type.getEnumConstants()) {
                if (e.name().equalsIgnoreCase(s.replace('-', '_'))) return Optional.of(e);
            }
            List<String> names = new ArrayList<>();
            for (E e : type.getEnumConstants()) names.add(e.name().toLowerCase(Locale.ROOT).replace('_', '-'));
            problems.add(markOf(key), where + "." + key + ": '" + s + "' is not one of " + names,
                    nearest(s, names).map(x -> "did you mean '" + x + "'?").orElse(null));
            return Optional.empty();
        });
    }

    public Optional<Fields> object(String key) {
        return node(key).flatMap(n -> Fields.of(n, where + "." + key, problems));
    }

    /** A list of texts; a single text counts as a list of one. */
    public List<String> strings(String key) {
        Optional<YamlNode> n = node(key);
        if (n.isEmpty()) return List.of();
        List<String> out = new ArrayList<>();
        if (n.get() instanceof YamlNode.Sequence seq) {
            for (YamlNode item : seq.items()) {
                scalarText(key, item).ifPresent(out::add);
            }
        } else {
            scalarText(key, n.get()).ifPresent(out::add);
        }
        return out;
    }

    public <T> List<T> list(String key, Function<Fields, T> each) {
        Optional<YamlNode> n = node(key);
        if (n.isEmpty()) return List.of();
        if (!(n.get() instanceof YamlNode.Sequence seq)) {
            problems.add(n.get().mark(), where + "." + key + " must be a list, not " + n.get().kind(),
                    "start each entry with '- '");
            return List.of();
        }
        List<T> out = new ArrayList<>();
        for (int i = 0; i < seq.items().size(); i++) {
            Fields.of(seq.items().get(i), where + "." + key + "[" + i + "]", problems)
                    .map(each).ifPresent(out::add);
        }
        return out;
    }

    /** Marks every key as known: used when the type is unknown, so its keys are not reported one by one. */
    public void acceptAll() {
        known.addAll(map.keys().keySet());
    }

    /** Reports every key that no getter asked for. */
    public void finish() {
        for (YamlNode.Key key : map.keys().values()) {
            if (!known.contains(key.name())) {
                problems.add(key.mark(), "unknown key '" + key.name() + "' in " + where,
                        nearest(key.name(), known).map(k -> "did you mean '" + k + "'?")
                                .orElse("known keys: " + String.join(", ", known.stream().sorted().toList())));
            }
        }
    }

    private Optional<String> scalarText(String key, YamlNode n) {
        if (n instanceof YamlNode.Scalar s && s.type() != YamlNode.Scalar.Type.NULL) {
            return Optional.of(s.text());
        }
        problems.add(n.mark(), where + "." + key + " must be a single value, not " + n.kind(), null);
        return Optional.empty();
    }

    private static String leaf(String where) {
        int dot = where.lastIndexOf('.');
        return dot < 0 ? where : where.substring(dot + 1);
    }

    /** The known word closest to {@code word}, if it is close enough to be a typo. */
    static Optional<String> nearest(String word, java.util.Collection<String> candidates) {
        return candidates.stream()
                .map(c -> new Object() { final String name = c; final int d = distance(word.toLowerCase(Locale.ROOT), c.toLowerCase(Locale.ROOT)); })
                .filter(x -> x.d <= Math.max(2, x.name.length() / 3))
                .min(Comparator.comparingInt(x -> x.d))
                .map(x -> x.name);
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev; prev = cur; cur = t;
        }
        return prev[b.length()];
    }
}
