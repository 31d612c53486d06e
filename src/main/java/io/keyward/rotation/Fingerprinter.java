package io.keyward.rotation;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * HMAC-SHA256 fingerprints of secret values under a key that never leaves the agent: equal
 * values give equal fingerprints, so audit lines can be compared without showing a value.
 */
public final class Fingerprinter {

    private static final String ALGORITHM = "HmacSHA256";
    private final SecretKeySpec key;

    public Fingerprinter(byte[] key) {
        if (key == null || key.length < 16) {
            throw new IllegalArgumentException("a fingerprint key needs at least 16 bytes");
        }
        this.key = new SecretKeySpec(key.clone(), ALGORITHM);
    }

    /** "hmac-sha256:" and 32 hex digits (the first 128 bits of the MAC). */
    public String of(SecretData data) {
        StringBuilder canonical = new StringBuilder();
        canonicalize(data.fields(), canonical);
        return of(canonical.toString());
    }

    public String of(String value) {
        try {
            Mac mac = Mac.getInstance(ALGORITHM);
            mac.init(key);
            byte[] out = mac.doFinal(value.getBytes(StandardCharsets.UTF_8));
            return "hmac-sha256:" + HexFormat.of().formatHex(out, 0, 16);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available in this JVM", e);
        }
    }

    @Override
    public String toString() {
        return "Fingerprinter[HmacSHA256]";
    }

    private static void canonicalize(Object v, StringBuilder out) {
        if (v instanceof Map<?, ?> m) {
            out.append('{');
            new java.util.TreeMap<>(m).forEach((k, x) -> {
                out.append(k.toString().length()).append(':').append(k).append('=');
                canonicalize(x, out);
                out.append(';');
            });
            out.append('}');
        } else if (v instanceof List<?> l) {
            out.append('[');
            l.forEach(x -> {
                canonicalize(x, out);
                out.append(';');
            });
            out.append(']');
        } else if (v == null) {
            out.append('~');
        } else {
            String s = v.toString();
            out.append(v instanceof String ? 's' : 'v').append(s.length()).append(':').append(s);
        }
    }
}
