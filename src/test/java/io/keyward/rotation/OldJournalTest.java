package io.keyward.rotation;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyward.testing.VaultExtension;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A rotation an older keyward left in flight (journal format 1) is resumed to its end by this one. */
@ExtendWith(VaultExtension.class)
final class OldJournalTest {

    private RotationFixture f;

    @BeforeEach
    void setUp(io.keyward.testing.TestVault vault) throws Exception {
        f = RotationFixture.open(vault);
    }

    @AfterEach
    void tearDown() {
        f.close();
    }

    @Test
    void resume_olderJournalAtPromoted_deliversAndRetires() throws Exception {
        RotationFixture.Secret s = f.issuedSecret(Duration.ZERO);
        String first = s.rotateAndFinish(f).orElseThrow();
        String second = OldJournals.inFlight(f, s, "promoted", false);

        assertThat(f.rotator("a").resume(s.binding())).isInstanceOf(Outcome.Completed.class);
        assertThat(second.equals(s.target().holds())).isTrue();
        assertThat(s.issuer().accepts(first)).isFalse();
        assertThat(s.issuer().accepts(second)).isTrue();
        assertThat(s.issuer().violations).isEmpty();
    }

    @Test
    void resume_olderJournalAtDelivered_readsItsAcknowledgementsAndRetires() throws Exception {
        RotationFixture.Secret s = f.issuedSecret(Duration.ZERO);
        String first = s.rotateAndFinish(f).orElseThrow();
        OldJournals.inFlight(f, s, "delivered", true);
        JournalEntry e = f.rotator("a").journal(s.id()).orElseThrow().entry();
        assertThat(e.ack("older-agent", "t1")).as("format 1 acknowledgements are the owner's").isPresent();

        assertThat(f.rotator("a").resume(s.binding())).isInstanceOf(Outcome.Completed.class);
        assertThat(s.issuer().accepts(first)).isFalse();
        assertThat(s.issuer().violations).isEmpty();
    }
}
