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
            keys = Small.copyOf(keys);
            values = Small.copyOf(values);
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

    /**
     * An immutable map in insertion order held in two arrays and searched in order: a policy's
     * mappings have a few keys each, and at 10,000 secrets two linked hash maps per mapping were
     * most of the memory a policy took while it was read.
     */
    final class Small<V> extends java.util.AbstractMap<String, V> {
        private static final int LARGEST = 16;
        private final String[] keys;
        private final Object[] values;

        private Small(Map<String, V> from) {
            keys = new String[from.size()];
            values = new Object[from.size()];
            int i = 0;
            for (Map.Entry<String, V> e : from.entrySet()) {
                keys[i] = java.util.Objects.requireNonNull(e.getKey());
                values[i++] = java.util.Objects.requireNonNull(e.getValue());
            }
        }

        static <V> Map<String, V> copyOf(Map<String, V> from) {
            if (from instanceof Small<V> already) return already;
            return from.size() <= LARGEST ? new Small<>(from) : Collections.unmodifiableMap(new LinkedHashMap<>(from));
        }

        private int indexOf(Object key) {
            for (int i = 0; i < keys.length; i++) {
                if (keys[i].equals(key)) return i;
            }
            return -1;
        }

        @Override
        @SuppressWarnings("unchecked")
        public V get(Object key) {
            int i = indexOf(key);
            return i < 0 ? null : (V) values[i];
        }

        @Override
        public boolean containsKey(Object key) {
            return indexOf(key) >= 0;
        }

        @Override
        public int size() {
            return keys.length;
        }

        @Override
        public java.util.Set<Map.Entry<String, V>> entrySet() {
            return new java.util.AbstractSet<>() {
                @Override
                public int size() {
                    return keys.length;
                }

                @Override
                public java.util.Iterator<Map.Entry<String, V>> iterator() {
                    return new java.util.Iterator<>() {
                        private int next;

                        @Override
                        public boolean hasNext() {
                            return next < keys.length;
                        }

                        @Override
                        @SuppressWarnings("unchecked")
                        public Map.Entry<String, V> next() {
                            if (next >= keys.length) throw new java.util.NoSuchElementException();
                            int i = next++;
                            return new java.util.AbstractMap.SimpleImmutableEntry<>(keys[i], (V) values[i]);
                        }
                    };
                }
            };
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
