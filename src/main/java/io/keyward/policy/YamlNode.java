package io.keyward.policy;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A parsed YAML value that remembers where it was written. */
public sealed interface YamlNode permits YamlNode.Mapping, YamlNode.Sequence, YamlNode.Scalar {

    Mark mark();

    /** A short word for messages: "a mapping", "a list", "a text". */
    String kind();

    /** Where a node starts: file, 1-based line and column. */
    record Mark(String file, int line, int column) {
        @Override
        public String toString() {
            return file + ":" + line + ":" + column;
        }
    }

    /** A key of a mapping, with the place the key itself was written. */
    record Key(String name, Mark mark) {}

    record Mapping(Mark mark, Map<String, Key> keys, Map<String, YamlNode> values) implements YamlNode {
        public Mapping {
            keys = Collections.unmodifiableMap(new LinkedHashMap<>(keys));
            values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
        }

        @Override
        public String kind() {
            return "a mapping";
        }
    }

    record Sequence(Mark mark, List<YamlNode> items) implements YamlNode {
        public Sequence {
            items = List.copyOf(items);
        }

        @Override
        public String kind() {
            return "a list";
        }
    }

    /** A scalar as written; {@code text} is null for YAML null ({@code ~}, empty). */
    record Scalar(Mark mark, String text, Type type) implements YamlNode {
        public enum Type { STRING, NUMBER, BOOLEAN, NULL }

        @Override
        public String kind() {
            return switch (type) {
                case STRING -> "a text";
                case NUMBER -> "a number";
                case BOOLEAN -> "true/false";
                case NULL -> "nothing";
            };
        }
    }
}
