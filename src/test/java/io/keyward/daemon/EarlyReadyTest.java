package io.keyward.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyward.fleet.Members;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** When READY may go out before Vault is read: targets in place, and away for less than the fleet's member timeout. */
final class EarlyReadyTest {

    private static final Instant NOW = Instant.parse("2026-12-02T10:00:00Z");
    private static final Duration TIMEOUT = Duration.ofMinutes(15);

    private static Optional<Members.Record> heardAt(Instant heartbeat) {
        return Optional.of(new Members.Record("a1", "i1", "h1", 1, "1", heartbeat.minusSeconds(600), heartbeat, true, true,
                Map.of()));
    }

    @Test
    void awayForSeconds_withEveryTargetInPlace_isReadyAtOnce() {
        assertThat(Daemon.inPlace(heardAt(NOW.minusSeconds(40)), NOW, TIMEOUT, Optional.empty()))
                .hasValueSatisfying(why -> assertThat(why).contains("away 40 s (less than fleet.member_timeout 15m)"));
    }

    @Test
    void awayLongerThanTheMemberTimeout_waitsForVault() {
        // the fleet stopped counting this agent: a rotation may have retired the key its files hold
        assertThat(Daemon.inPlace(heardAt(NOW.minus(TIMEOUT).minusSeconds(1)), NOW, TIMEOUT, Optional.empty())).isEmpty();
    }

    @Test
    void aNewAgent_orATargetNotInPlace_waitsForVault() {
        assertThat(Daemon.inPlace(Optional.empty(), NOW, TIMEOUT, Optional.empty())).isEmpty();
        assertThat(Daemon.inPlace(heardAt(NOW.minusSeconds(5)), NOW, TIMEOUT,
                Optional.of("target app of db was never delivered on this host"))).isEmpty();
    }
}
