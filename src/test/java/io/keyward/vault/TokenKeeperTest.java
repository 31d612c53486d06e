package io.keyward.vault;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

final class TokenKeeperTest {

    @Test
    void renewDelay_isTwoThirdsOfTheTtl() {
        assertThat(TokenKeeper.renewDelay(Duration.ofHours(1))).isEqualTo(Duration.ofMinutes(40));
        assertThat(TokenKeeper.renewDelay(Duration.ofSeconds(3))).isEqualTo(Duration.ofSeconds(2));
        assertThat(TokenKeeper.renewDelay(Duration.ofMillis(90))).isEqualTo(Duration.ofMillis(100));
    }

    @Test
    void maxTtlReached_whenVaultGrantsLessThanAsked() {
        assertThat(TokenKeeper.maxTtlReached(Duration.ofHours(1), Duration.ofMinutes(20))).isTrue();
        assertThat(TokenKeeper.maxTtlReached(Duration.ofHours(1), Duration.ofHours(1))).isFalse();
    }
}
