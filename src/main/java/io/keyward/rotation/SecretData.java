package io.keyward.rotation;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The fields of one secret version. Values are JSON-like: text, numbers, booleans, lists and
 * nested maps. {@link #toString()} names the fields and never shows a value.
 */
public final class SecretData {

    private final Map<String, Object> fields;

    private SecretData(Map<String, Object> fields) {
        this.fields = fields;
    }

    public static SecretData of(Map<String, ?> fields) {
        Objects.requireNonNull(fields, "fields");
        TreeMap<String, Object> copy = new TreeMap<>();
        fields.forEach((k, v) -> copy.put(Objects.requireNonNull(k, "field name"), freeze(v, k)));
        return new SecretData(Collections.unmodifiableMap(copy));
    }

    public static SecretData of(String field, String value) {
        return of(Map.of(field, value));
    }

    /** Fields in name order; values are immutable. */
    public Map<String, Object> fields() {
        return fields;
    }

    /** A field as text, if it is text. */
    public Optional<String> string(String field) {
        return fields.get(field) instanceof String s ? Optional.of(s) : Optional.empty();
    }

    public boolean isEmpty() {
        return fields.isEmpty();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SecretData d && d.fields.equals(fields);
    }

    @Override
    public int hashCode() {
        return fields.hashCode();
    }

    @Override
    public String toString() {
        return "SecretData" + fields.keySet() + "(values hidden)";
    }

    private static Object freeze(Object v, String field) {
        if (v == null || v instanceof String || v instanceof Boolean) return v;
        if (v instanceof Integer || v instanceof Long || v instanceof Double
                || v instanceof java.math.BigDecimal || v instanceof java.math.BigInteger) return v;
        if (v instanceof Number n) return n.doubleValue();
        if (v instanceof Map<?, ?> m) {
            TreeMap<String, Object> copy = new TreeMap<>();
            m.forEach((k, x) -> copy.put(String.valueOf(k), freeze(x, field)));
            return Collections.unmodifiableMap(copy);
        }
        if (v instanceof List<?> l) {
            java.util.ArrayList<Object> copy = new java.util.ArrayList<>(l.size());
            for (Object x : l) copy.add(freeze(x, field));
            return Collections.unmodifiableList(copy);
        }
        throw new IllegalArgumentException("field '" + field + "' holds a " + v.getClass().getSimpleName()
                + "; a secret field holds text, a number, true/false, a list or a map");
    }
}
