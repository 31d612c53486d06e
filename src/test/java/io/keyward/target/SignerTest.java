package io.keyward.target;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The webhook signature against a vector made by other implementations, not by {@link Signer} itself. */
final class SignerTest {

    private static final byte[] KEY = "keyward-test-vector-key".getBytes(StandardCharsets.UTF_8);
    private static final String BODY = "{\"secret_id\":\"app-db\",\"version\":7}";

    /**
     * Made with {@code printf '%s' '1767225600.BODY' | openssl dgst -sha256 -hmac keyward-test-vector-key}
     * and with Python's {@code hmac.new(key, b"1767225600." + body, hashlib.sha256)}: both agree.
     */
    private static final String EXPECTED = "sha256=0f7623d0d869f603b3cc4eaa9065cfb4f6ad09dea8436101efe084f639af1ea7";

    @Test
    void signature_isHmacSha256OfTimestampDotBody_asOpensslAndPythonComputeIt() {
        assertThat(Signer.sign(KEY, 1767225600L, BODY)).isEqualTo(EXPECTED);
    }

    @Test
    void verify_acceptsOnlyThatBodyAtThatTimestamp() {
        assertThat(Signer.verify(KEY, 1767225600L, BODY, EXPECTED)).isTrue();
        assertThat(Signer.verify(KEY, 1767225601L, BODY, EXPECTED)).isFalse();
        assertThat(Signer.verify(KEY, 1767225600L, BODY.replace('7', '8'), EXPECTED)).isFalse();
        assertThat(Signer.verify("another-key".getBytes(StandardCharsets.UTF_8), 1767225600L, BODY, EXPECTED)).isFalse();
        assertThat(Signer.verify(KEY, 1767225600L, BODY, null)).isFalse();
    }
}
