package io.keyward.target;

import io.keyward.policy.Policy;
import io.keyward.rotation.Plugins;
import io.keyward.rotation.SecretData;
import java.io.IOException;
import java.io.StringWriter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.json.JsonMapper;

/** Renders a secret version as the text of a file target, in the format its policy names. */
final class Formats {

    private static final Pattern PLACEHOLDER = Pattern.compile("\\{\\{\\s*([A-Za-z0-9_.-]+)\\s*}}");
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private Formats() {}

    /**
     * The file's text. Every field the format writes must hold a non-empty value; otherwise the
     * delivery is refused (never retried) and the file is left as it was.
     */
    static String render(Policy.TargetSpec.File spec, List<String> fields, String secretId, int version,
                         SecretData value) throws Plugins.Rejected {
        return switch (spec.format()) {
            case RAW -> required(value, spec.field(), spec, secretId, version);
            case ENV -> {
                StringBuilder b = new StringBuilder();
                for (String f : fields) {
                    b.append(envName(f)).append('=').append(envQuote(required(value, f, spec, secretId, version))).append('\n');
                }
                yield b.toString();
            }
            case JSON -> {
                Map<String, Object> m = new TreeMap<>();
                for (String f : fields) {
                    required(value, f, spec, secretId, version);
                    m.put(f, value.fields().get(f));
                }
                yield JSON.writeValueAsString(m) + "\n";
            }
            case PROPERTIES -> {
                Properties p = new Properties();
                for (String f : fields) p.setProperty(f, required(value, f, spec, secretId, version));
                StringWriter w = new StringWriter();
                try {
                    p.store(w, null);
                } catch (IOException impossible) {
                    throw new IllegalStateException(impossible);
                }
                // Properties.store starts with a date comment; the file should change only when the value does.
                StringBuilder b = new StringBuilder();
                new TreeMap<>(lines(w.toString())).values().forEach(l -> b.append(l).append('\n'));
                yield b.toString();
            }
            case TEMPLATE -> {
                Matcher m = PLACEHOLDER.matcher(spec.template().orElseThrow());
                StringBuilder b = new StringBuilder();
                while (m.find()) {
                    String name = m.group(1);
                    String text = switch (name) {
                        case "secret_id" -> secretId;
                        case "version" -> String.valueOf(version);
                        default -> required(value, name, spec, secretId, version);
                    };
                    m.appendReplacement(b, Matcher.quoteReplacement(text));
                }
                m.appendTail(b);
                yield b.toString();
            }
        };
    }

    /** KEY=value lines of Properties.store, by key, without its comment. */
    private static Map<String, String> lines(String stored) {
        Map<String, String> out = new TreeMap<>();
        for (String line : stored.split("\n")) {
            String l = line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
            if (l.isEmpty() || l.startsWith("#")) continue;
            out.put(l, l);
        }
        return out;
    }

    private static String required(SecretData value, String field, Policy.TargetSpec.File spec, String secretId,
                                   int version) throws Plugins.Rejected {
        Object v = value.fields().get(field);
        String text = v == null ? "" : v instanceof String s ? s : String.valueOf(v);
        if (text.isEmpty()) {
            throw new Plugins.Rejected("field '" + field + "' of " + secretId + " v" + version
                    + " is empty or missing: not writing " + spec.path());
        }
        return text;
    }

    /** A field name as an environment variable name: upper case, other characters as '_'. */
    static String envName(String field) {
        String up = field.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9_]", "_");
        return Character.isDigit(up.charAt(0)) ? "_" + up : up;
    }

    /**
     * Double-quoted so that both a POSIX shell's {@code . file} and systemd's EnvironmentFile read
     * the value back unchanged.
     */
    static String envQuote(String value) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : value.toCharArray()) {
            switch (c) {
                case '"', '\\', '$', '`' -> b.append('\\').append(c);
                case '\n' -> throw new IllegalArgumentException("a value with a line break cannot be written as env");
                default -> b.append(c);
            }
        }
        return b.append('"').toString();
    }
}
