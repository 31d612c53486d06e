package io.keyward.policy;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.TokenStreamLocation;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * Reads one YAML document into {@link YamlNode}s that keep their file:line:column.
 * Duplicate keys are problems, not silently merged.
 */
public final class YamlLoader {

    /** The largest file read: some 300,000 secrets in the flow style of the examples (SnakeYAML's own limit is 3 MiB). */
    static final int MAX_CHARS = 64 * 1024 * 1024;
    private static final YAMLMapper MAPPER = YAMLMapper.builder(tools.jackson.dataformat.yaml.YAMLFactory.builder()
            .loadSettings(org.snakeyaml.engine.v2.api.LoadSettings.builder().setCodePointLimit(MAX_CHARS).build())
            .disable(tools.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION) // keyward reports them, with both places
            .build()).build();

    private YamlLoader() {}

    /** Reads a file; a missing, unreadable or malformed file is a {@link ConfigException}. */
    public static YamlNode load(Path file) throws ConfigException {
        String name = file.toString();
        String text;
        try {
            // Looked at before it is opened: opening a FIFO waits for a writer, and /dev/zero never ends.
            java.nio.file.attribute.BasicFileAttributes attrs = Files.readAttributes(file,
                    java.nio.file.attribute.BasicFileAttributes.class);
            if (!attrs.isRegularFile()) {
                throw single(name, "not a regular file but " + kind(file, attrs), "give the path of the YAML file itself");
            }
            long size = attrs.size();
            if (size > MAX_CHARS) {
                throw single(name, "the file is " + String.format(java.util.Locale.ROOT, "%,d", size) + " bytes, more than the "
                        + MAX_CHARS / (1024 * 1024) + " MiB keyward reads", "split it, or check that it is the file you meant");
            }
            text = utf8(name, Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            throw single(name, "file not found", "check the path, or create it from the example in config/");
        } catch (IOException e) {
            throw single(name, "cannot read the file: " + e.getClass().getSimpleName(), "check its permissions");
        }
        return parse(name, text);
    }

    private static String kind(Path file, java.nio.file.attribute.BasicFileAttributes attrs) {
        if (attrs.isDirectory()) return "a directory";
        try {
            Object mode = Files.getAttribute(file, "unix:mode");
            if (mode instanceof Integer m) {
                switch (m & 0170000) {
                    case 0010000: return "a FIFO (named pipe)";
                    case 0020000: return "a character device";
                    case 0060000: return "a block device";
                    case 0140000: return "a socket";
                    default: break;
                }
            }
        } catch (IOException | UnsupportedOperationException e) {
            // the plain word below will do
        }
        return "a special file";
    }

    /** The bytes as UTF-8 text; bytes that are not UTF-8 are a problem at their line and byte offset. */
    private static String utf8(String name, byte[] bytes) throws ConfigException {
        java.nio.charset.CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT);
        java.nio.ByteBuffer in = java.nio.ByteBuffer.wrap(bytes);
        java.nio.CharBuffer out = java.nio.CharBuffer.allocate(bytes.length);
        java.nio.charset.CoderResult r = decoder.decode(in, out, true);
        if (r.isError()) {
            int at = in.position();
            int line = 1;
            int lineStart = 0;
            for (int i = 0; i < at; i++) {
                if (bytes[i] == '\n') {
                    line++;
                    lineStart = i + 1;
                }
            }
            throw new ConfigException(List.of(new Problem(new YamlNode.Mark(name, line, at - lineStart + 1),
                    "not UTF-8 text at byte " + at, "save the file as UTF-8")));
        }
        decoder.flush(out);
        return out.flip().toString();
    }

    /** Parses text that came from {@code name} (used in messages). */
    public static YamlNode parse(String name, String text) throws ConfigException {
        Problems problems = new Problems();
        YamlNode root;
        try (Reader reader = new StringReader(text);
             JsonParser parser = MAPPER.createParser(reader)) {
            JsonToken first = parser.nextToken();
            if (first == null) {
                throw single(name, "the file is empty", "write at least the required settings");
            }
            root = read(parser, name, problems, new HashMap<>());
        } catch (JacksonException e) {
            TokenStreamLocation at = e.getLocation();
            int line = at == null ? 1 : Math.max(1, at.getLineNr());
            int col = at == null ? 1 : Math.max(1, at.getColumnNr());
            String why = e.getOriginalMessage();
            throw new ConfigException(List.of(new Problem(new YamlNode.Mark(name, line, col),
                    "not valid YAML: " + firstLine(why), "fix the indentation or quoting here")));
        } catch (IOException e) {
            throw single(name, "cannot read: " + e.getClass().getSimpleName(), null);
        }
        problems.throwIfAny();
        return root;
    }

    /**
     * One node and what it holds. {@code shared} gives one String object for each key and short
     * scalar that repeats ("password", "30d", "file"), so that 10,000 secrets do not hold 10,000 copies.
     */
    private static YamlNode read(JsonParser p, String file, Problems problems, Map<String, String> shared) {
        YamlNode.Mark mark = mark(p, file);
        JsonToken t = p.currentToken();
        switch (t) {
            case START_OBJECT -> {
                Map<String, YamlNode.Key> keys = new LinkedHashMap<>();
                Map<String, YamlNode> values = new LinkedHashMap<>();
                while (p.nextToken() == JsonToken.PROPERTY_NAME) {
                    String key = share(p.currentName(), shared);
                    YamlNode.Mark keyMark = mark(p, file);
                    p.nextToken();
                    YamlNode value = read(p, file, problems, shared);
                    if (keys.containsKey(key)) {
                        problems.add(keyMark, "'" + key + "' is given twice (first at line "
                                + keys.get(key).mark().line() + ")", "keep one of them");
                        continue;
                    }
                    keys.put(key, new YamlNode.Key(key, keyMark));
                    values.put(key, value);
                }
                return new YamlNode.Mapping(mark, keys, values);
            }
            case START_ARRAY -> {
                List<YamlNode> items = new ArrayList<>();
                while (p.nextToken() != JsonToken.END_ARRAY) {
                    items.add(read(p, file, problems, shared));
                }
                return new YamlNode.Sequence(mark, items);
            }
            case VALUE_STRING -> {
                return new YamlNode.Scalar(mark, share(p.getString(), shared), YamlNode.Scalar.Type.STRING);
            }
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> {
                return new YamlNode.Scalar(mark, p.getString(), YamlNode.Scalar.Type.NUMBER);
            }
            case VALUE_TRUE, VALUE_FALSE -> {
                return new YamlNode.Scalar(mark, p.getString(), YamlNode.Scalar.Type.BOOLEAN);
            }
            case VALUE_NULL -> {
                return new YamlNode.Scalar(mark, null, YamlNode.Scalar.Type.NULL);
            }
            default -> {
                problems.add(mark, "unsupported YAML here (" + t + ")", "use plain mappings, lists and scalars");
                return new YamlNode.Scalar(mark, null, YamlNode.Scalar.Type.NULL);
            }
        }
    }

    private static String share(String s, Map<String, String> shared) {
        if (s == null || s.length() > 32) return s;
        String before = shared.putIfAbsent(s, s);
        return before == null ? s : before;
    }

    private static YamlNode.Mark mark(JsonParser p, String file) {
        TokenStreamLocation at = p.currentTokenLocation();
        return new YamlNode.Mark(file, Math.max(1, at.getLineNr()), Math.max(1, at.getColumnNr()));
    }

    private static ConfigException single(String file, String message, String fix) {
        return new ConfigException(List.of(new Problem(new YamlNode.Mark(file, 1, 1), message, fix)));
    }

    private static String firstLine(String s) {
        if (s == null) return "parse error";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
