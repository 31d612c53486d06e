package io.keyward.fleet;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What one member serves, as it is stored: one text of lines "secret TAB targets TAB policy hash"
 * (one JSON string however many secrets: Vault refuses requests of more than 1,000 strings by
 * default) and the digest of that text, which the member's small record names.
 */
record ServedSet(String digest, Map<String, Members.Served> secrets) {

    ServedSet {
        secrets = Map.copyOf(secrets);
    }

    static ServedSet of(Map<String, Members.Served> secrets) {
        return new ServedSet(digest(text(secrets)), secrets);
    }

    String text() {
        return text(secrets);
    }

    private static String text(Map<String, Members.Served> secrets) {
        StringBuilder text = new StringBuilder();
        new TreeMap<>(secrets).forEach((id, s) -> text.append(id).append('\t')
                .append(String.join(",", new TreeSet<>(s.targets()))).append('\t')
                .append(s.policy() == null ? "" : s.policy()).append('\n'));
        return text.toString();
    }

    static Map<String, Members.Served> parse(String text) {
        Map<String, Members.Served> out = new TreeMap<>();
        for (String line : text.split("\n")) {
            String[] f = line.split("\t", -1);
            if (f.length < 2 || f[0].isEmpty()) continue;
            Set<String> targets = new TreeSet<>();
            for (String t : f[1].split(",")) if (!t.isEmpty()) targets.add(t);
            out.put(f[0], new Members.Served(targets, f.length > 2 && !f[2].isEmpty() ? f[2] : null));
        }
        return out;
    }

    private static String digest(String text) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available in this JVM", e);
        }
    }
}
