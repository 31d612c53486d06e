package io.keyward.rotation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

final class SecretValuesTest {

    @Test
    void secretData_toString_namesFieldsAndHidesValues() {
        SecretData d = SecretData.of(Map.of("password", "s3cr3t-value", "user", "app"));
        VersionedSecret v = new VersionedSecret(SecretPath.of("secret", "db"), 3, d, Instant.EPOCH);

        assertThat(d.toString()).isEqualTo("SecretData[password, user](values hidden)");
        assertThat(v.toString()).doesNotContain("s3cr3t-value").doesNotContain("app,").contains("version=3");
    }

    @Test
    void secretData_isImmutable_andCopiesNestedValues() {
        java.util.ArrayList<Object> list = new java.util.ArrayList<>(List.of("a"));
        SecretData d = SecretData.of(Map.of("l", list));
        list.add("b");

        assertThat(d.fields().get("l")).isEqualTo(List.of("a"));
        assertThatThrownBy(() -> d.fields().put("x", "y")).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void secretData_rejectsValuesThatAreNotJson() {
        assertThatThrownBy(() -> SecretData.of(Map.of("when", Instant.EPOCH)))
                .hasMessageContaining("field 'when' holds a Instant");
    }

    @Test
    void secretPath_normalisesSlashes_andRejectsTraversal() {
        assertThat(SecretPath.of("/secret/", "/app/db/")).hasToString("secret/app/db");
        assertThat(SecretPath.of("secret", "app").child("db")).isEqualTo(SecretPath.of("secret", "app/db"));
        assertThatThrownBy(() -> SecretPath.of("secret", "app/../x")).hasMessageContaining("bad segment '..'");
        assertThatThrownBy(() -> SecretPath.of("secret", "a//b")).hasMessageContaining("bad segment ''");
        assertThatThrownBy(() -> SecretPath.of(" ", "a")).hasMessage("secret mount is empty");
        assertThatThrownBy(() -> SecretPath.of("secret", "a b")).hasMessageContaining("bad segment 'a b'");
    }

    @Test
    void fingerprint_isStable_keyed_andHidesTheValue() {
        Fingerprinter a = new Fingerprinter("0123456789abcdef0123".getBytes());
        Fingerprinter b = new Fingerprinter("another-key-0123456789".getBytes());
        SecretData d = SecretData.of(Map.of("k", "value-1", "n", Map.of("x", 1)));

        assertThat(a.of(d)).isEqualTo(a.of(SecretData.of(Map.of("n", Map.of("x", 1), "k", "value-1"))));
        assertThat(a.of(d)).startsWith("hmac-sha256:").hasSize("hmac-sha256:".length() + 32).doesNotContain("value-1");
        assertThat(a.of(d)).isNotEqualTo(b.of(d));
        assertThat(a.of(d)).isNotEqualTo(a.of(SecretData.of(Map.of("k", "value-2", "n", Map.of("x", 1)))));
        // a text "1" and a number 1 are different values
        assertThat(a.of(SecretData.of("k", "1"))).isNotEqualTo(a.of(SecretData.of(Map.of("k", 1))));
        assertThatThrownBy(() -> new Fingerprinter(new byte[8])).hasMessageContaining("16 bytes");
    }
}
