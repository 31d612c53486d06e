package io.keyward.rotation;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyward.testing.TestVault;
import io.keyward.testing.VaultExtension;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The rotation protocol against a real OpenBao, with in-memory issuer and targets. */
@ExtendWith(VaultExtension.class)
final class RotatorTest {

    private TestVault vault;
    private RotationFixture f;

    @BeforeEach
    void setUp(TestVault vault) throws Exception {
        this.vault = vault;
        this.f = RotationFixture.open(vault);
    }

    @AfterEach
    void tearDown() {
        f.close();
    }

    @Test
    void issuedKey_fullRotation_deliversThenRevokesTheOld() throws Exception {
        RotationFixture.Secret s = f.issuedSecret(Duration.ofMinutes(30));
        String first = s.rotateAndFinish(f).orElseThrow();
        Outcome o = f.rotator("a").rotate(s.binding(), true, false, "manual");

        assertThat(o).isInstanceOf(Outcome.Waiting.class);
        assertThat(((Outcome.Waiting) o).phase()).isEqualTo(Phase.DELIVERED);
        String second = f.live(s).orElseThrow();
        assertThat(second).isNotEqualTo(first);
        assertThat(s.target().holds()).isEqualTo(second);
        assertThat(s.issuer().accepts(first)).as("old key valid during the grace").isTrue();

        f.clock.advance(Duration.ofMinutes(31));
        Outcome done = f.rotator("a").resume(s.binding());

        assertThat(done).isInstanceOf(Outcome.Completed.class);
        assertThat(s.issuer().accepts(first)).isFalse();
        assertThat(s.issuer().accepts(second)).isTrue();
        assertThat(s.issuer().violations).isEmpty();
        assertThat(f.store().read(f.rotator("a").pendingPath(s.id()))).isEmpty();
        SecretMetadata meta = f.store().metadata(s.binding().livePath()).orElseThrow();
        assertThat(meta.customMetadata()).containsEntry("keyward-current", "2").containsEntry("keyward-previous", "1");
    }

    @Test
    void notDue_isSkipped_andForceRotates() throws Exception {
        RotationFixture.Secret s = f.randomSecret("30d");
        s.rotateAndFinish(f);
        assertThat(f.rotator("a").rotate(s.binding(), false, false, "schedule")).isInstanceOf(Outcome.NotDue.class);
        assertThat(f.rotator("a").rotate(s.binding(), true, false, "manual")).isInstanceOf(Outcome.Completed.class);
        assertThat(f.store().metadata(s.binding().livePath()).orElseThrow().currentVersion()).isEqualTo(2);
    }

    @Test
    void verifyFailure_rollsBack_revokesTheNewKey_andKeepsTheOld() throws Exception {
        RotationFixture.Secret s = f.issuedSecret(Duration.ZERO);
        String old = s.rotateAndFinish(f).orElseThrow();
        RotationFixture.Secret failing = s.withVerifier((id, value) -> {
            throw new Plugins.Rejected("the service answered 401");
        });

        Outcome o = f.rotator("a").rotate(failing.binding(), true, false, "manual");

        assertThat(o).isInstanceOf(Outcome.RolledBack.class);
        assertThat(o.describe()).contains("verification failed: the service answered 401");
        assertThat(f.live(s)).contains(old);
        assertThat(s.target().holds()).isEqualTo(old);
        assertThat(s.issuer().valid).containsExactly(old);
        assertThat(f.rotator("a").journal(s.id()).orElseThrow().entry().phase()).isEqualTo(Phase.ROLLED_BACK);
    }

    @Test
    void targetDown_keepsOldValid_untilItRecovers() throws Exception {
        RotationFixture.Secret s = f.issuedSecret(Duration.ZERO);
        String old = s.rotateAndFinish(f).orElseThrow();
        s.target().down = true;

        Outcome o = f.rotator("a").rotate(s.binding(), true, false, "manual");
        assertThat(o).isInstanceOf(Outcome.Waiting.class);
        assertThat(o.describe()).contains("delivery failing").contains("target t1 is down");
        assertThat(s.issuer().accepts(old)).isTrue();
        assertThat(f.rotator("a").resume(s.binding())).isInstanceOf(Outcome.Waiting.class);
        assertThat(s.issuer().accepts(old)).isTrue();

        s.target().down = false;
        assertThat(f.rotator("a").resume(s.binding())).isInstanceOf(Outcome.Completed.class);
        assertThat(s.issuer().accepts(old)).isFalse();
        assertThat(s.target().holds()).isEqualTo(f.live(s).orElseThrow());
        assertThat(s.issuer().violations).isEmpty();
    }

    @Test
    void someoneElseChangesTheLiveValue_rotationStopsAndRollsBack() throws Exception {
        RotationFixture.Secret s = f.issuedSecret(Duration.ZERO);
        s.rotateAndFinish(f);
        String pasted = io.keyward.testing.Leaks.secret("pasted");
        Rotator meddled = f.rotator("a", (id, rotation, phase) -> {
            if (phase == Phase.VERIFIED) {
                try {
                    f.store().write(s.binding().livePath(), SecretData.of("api_key", pasted), OptionalInt.empty());
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            }
        });

        Outcome o = meddled.rotate(s.binding(), true, false, "manual");

        assertThat(o).isInstanceOf(Outcome.RolledBack.class);
        assertThat(o.describe()).contains("someone else rotated it");
        assertThat(f.live(s)).contains(pasted);
        assertThat(s.issuer().valid).hasSize(1);
        assertThat(f.auditText()).contains("\"event\":\"rotation.conflict\"");
    }

    @Test
    void emergency_retiresAsSoonAsEveryTargetHasTheNewValue() throws Exception {
        RotationFixture.Secret s = f.issuedSecret(Duration.ofDays(1));
        s.rotateAndFinish(f);
        String leaked = f.live(s).orElseThrow();

        Outcome o = f.rotator("a").rotate(s.binding(), false, true, "emergency");

        assertThat(o).isInstanceOf(Outcome.Completed.class);
        assertThat(s.issuer().accepts(leaked)).isFalse();
        assertThat(f.rotator("a").journal(s.id()).orElseThrow().entry().history().get(0).outcome()).isEqualTo("emergency");
    }

    @Test
    void rotationOfALiveAgent_isLeftAlone_butAnExpiredLeaseIsTakenOver() throws Exception {
        RotationFixture.Secret s = f.issuedSecret(Duration.ZERO);
        s.rotateAndFinish(f);
        Rotator crashed = f.rotator("agent-a", (id, rotation, phase) -> {
            if (phase == Phase.VERIFIED) throw new SimulatedCrash();
        });
        try {
            crashed.rotate(s.binding(), true, false, "manual");
        } catch (SimulatedCrash expected) {
            // agent-a "dies" after journaling VERIFIED
        }
        Outcome early = f.rotator("agent-b").resume(s.binding());
        assertThat(early).isInstanceOf(Outcome.InFlightElsewhere.class);
        assertThat(early.describe()).contains("owned by agent-a");

        f.clock.advance(f.lease().plusSeconds(1));
        Outcome late = f.rotator("agent-b").resume(s.binding());

        assertThat(late).isInstanceOf(Outcome.Completed.class);
        assertThat(f.auditText()).contains("\"event\":\"rotation.taken_over\"");
        assertThat(s.target().holds()).isEqualTo(f.live(s).orElseThrow());
    }

    @Test
    void crashAtEveryPhase_resumeConverges() throws Exception {
        for (Phase at : List.of(Phase.CLAIMED, Phase.STAGED, Phase.APPLIED, Phase.VERIFIED, Phase.PROMOTED,
                Phase.DELIVERED)) {
            RotationFixture.Secret s = f.issuedSecret(Duration.ZERO);
            s.rotateAndFinish(f);
            int before = f.store().metadata(s.binding().livePath()).orElseThrow().currentVersion();
            Rotator dies = f.rotator("a", (id, r, phase) -> {
                if (phase == at) throw new SimulatedCrash();
            });
            try {
                dies.rotate(s.binding(), true, false, "manual");
            } catch (SimulatedCrash expected) {
                // crashed right after journaling `at`
            }
            Outcome o = f.rotator("a").resume(s.binding());

            assertThat(o).as("resume after a crash at " + at).isInstanceOf(Outcome.Completed.class);
            String live = f.live(s).orElseThrow();
            assertThat(s.target().holds()).as(at.word()).isEqualTo(live);
            assertThat(s.issuer().valid).as(at.word()).containsExactly(live);
            assertThat(s.issuer().violations).as(at.word()).isEmpty();
            assertThat(f.store().metadata(s.binding().livePath()).orElseThrow().currentVersion()).isEqualTo(before + 1);
        }
    }

    @Test
    void twoAgentsAtOnce_exactlyOneRotates() throws Exception {
        for (int round = 0; round < 5; round++) {
            RotationFixture.Secret s = f.issuedSecret(Duration.ZERO);
            s.rotateAndFinish(f);
            f.clock.advance(Duration.ofDays(31));
            CyclicBarrier barrier = new CyclicBarrier(2);
            ExecutorService pool = Executors.newFixedThreadPool(2);
            List<Future<Outcome>> results = new ArrayList<>();
            for (String agent : List.of("left", "right")) {
                Rotator r = f.rotator(agent);
                results.add(pool.submit(() -> {
                    barrier.await();
                    return r.rotate(s.binding(), false, false, "schedule");
                }));
            }
            List<Outcome> outcomes = new ArrayList<>();
            for (Future<Outcome> r : results) outcomes.add(r.get());
            pool.shutdown();

            assertThat(outcomes).filteredOn(o -> o instanceof Outcome.Completed).hasSize(1);
            assertThat(outcomes).filteredOn(o -> o instanceof Outcome.Skipped || o instanceof Outcome.InFlightElsewhere)
                    .hasSize(1);
            assertThat(f.store().metadata(s.binding().livePath()).orElseThrow().currentVersion()).isEqualTo(2);
        }
    }

    @Test
    void generatedValue_keepsTheOtherFieldsOfTheSecret() throws Exception {
        RotationFixture.Secret s = f.randomSecret("30d");
        f.store().write(s.binding().livePath(), SecretData.of(Map.of("username", "app", "password", "initial-value")),
                OptionalInt.empty());
        assertThat(f.rotator("a").rotate(s.binding(), true, false, "manual")).isInstanceOf(Outcome.Completed.class);

        SecretData live = f.store().read(s.binding().livePath()).orElseThrow().data();
        assertThat(live.string("username")).contains("app");
        assertThat(live.string("password")).isPresent().get().asString().hasSize(24).isNotEqualTo("initial-value");
        assertThat(s.target().holds()).isEqualTo(live.string("password").orElseThrow());
        io.keyward.testing.Leaks.track(live.string("password").orElseThrow());
    }

    @Test
    void everyPhase_writesAnAuditLine_withFingerprintAndNoValue() throws Exception {
        RotationFixture.Secret s = f.issuedSecret(Duration.ZERO);
        String value = s.rotateAndFinish(f).orElseThrow();
        List<String> events = f.auditLines().stream().filter(l -> l.path("event").asString().startsWith("rotation."))
                .map(l -> l.path("event").asString()).toList();
        assertThat(events).containsSubsequence("rotation.claimed", "rotation.staged", "rotation.applied",
                "rotation.verified", "rotation.promoted", "rotation.target", "rotation.delivered", "rotation.retired");
        assertThat(f.auditLines()).filteredOn(l -> l.path("event").asString().equals("rotation.promoted"))
                .allSatisfy(l -> {
                    assertThat(l.path("fingerprint").asString()).startsWith("hmac-sha256:");
                    assertThat(l.path("rotation_id").asString()).isNotBlank();
                });
        assertThat(f.auditText()).doesNotContain(value);
    }

    /** Thrown by a phase listener to stop a rotation dead, like a killed process (an Error: no guard catches it). */
    static final class SimulatedCrash extends Error {
        SimulatedCrash() {
            super("simulated crash");
        }
    }
}
