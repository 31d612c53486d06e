package io.keyward.rotation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

final class SecretPathTest {

    @Test
    void slashesAroundAreDropped_andEqualPathsAreEqual() {
        SecretPath p = SecretPath.of(" /secret/ ", "/app/db/");
        assertThat(p.mount()).isEqualTo("secret");
        assertThat(p.path()).isEqualTo("app/db");
        assertThat(p).hasToString("secret/app/db").isEqualTo(SecretPath.of("secret", "app/db"))
                .hasSameHashCodeAs(SecretPath.of("secret", "app/db"));
        assertThat(p).isNotEqualTo(SecretPath.of("kv", "app/db"));
    }

    @Test
    void childrenJoinBelowThePath_evenBelowAMountRoot() {
        assertThat(SecretPath.of("secret", "").child("a")).hasToString("secret/a");
        assertThat(SecretPath.of("secret", "app").child("sub/b"))
                .isEqualTo(SecretPath.of("secret", "app/sub/b"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"..", ".", "a//b", "a b", "ä", "x/../y", ""})
    void aChildWithABadSegment_isRefusedWithTheNameInTheMessage(String name) {
        assertThatThrownBy(() -> SecretPath.of("secret", "app").child(name))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("secret path");
    }

    @Test
    void aBadPath_namesTheSegment() {
        assertThatThrownBy(() -> SecretPath.of("secret", "app/../db"))
                .hasMessage("secret path 'app/../db' has a bad segment '..': use letters, digits and . _ - @ + = ,"
                        + " between single slashes");
        assertThatThrownBy(() -> SecretPath.of("", "db")).hasMessage("secret mount is empty");
    }
}
