package io.keyward.target;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Signs keyward's webhook requests: {@code X-Keyward-Signature: sha256=HEX} where HEX is
 * HMAC-SHA256, keyed with the shared key, over {@code TIMESTAMP + "." + BODY}, and
 * {@code X-Keyward-Timestamp} is TIMESTAMP in Unix seconds. A receiver recomputes the HMAC,
 * compares in constant time, and refuses timestamps older than a few minutes.
 */
public final class Signer {

    public static final String SIGNATURE = "X-Keyward-Signature";
    public static final String TIMESTAMP = "X-Keyward-Timestamp";

    private Signer() {}

    public static String sign(byte[] key, long timestamp, String body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            mac.update((timestamp + ".").getBytes(StandardCharsets.UTF_8));
            return "sha256=" + HexFormat.of().formatHex(mac.doFinal(body.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is missing from this JVM", e);
        }
    }

    /** What a receiver does: true when {@code signature} is this body's, timestamp included. */
    public static boolean verify(byte[] key, long timestamp, String body, String signature) {
        return signature != null && MessageDigest.isEqual(sign(key, timestamp, body).getBytes(StandardCharsets.UTF_8),
                signature.getBytes(StandardCharsets.UTF_8));
    }
}
