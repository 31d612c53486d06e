package io.keyward.rotation;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyward.policy.Policy;
import io.keyward.testing.TestDirs;
import io.keyward.testing.TestVault;
import io.keyward.testing.VaultExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A host's targets kept current by its watch (drift repaired, --force), and members that must agree on the policy. */
@ExtendWith(VaultExtension.class)
final class FleetTest {

    private RotationFixture f;

    @BeforeEach
    void setUp(TestVault vault) throws Exception {
        f = RotationFixture.open(vault);
    }

    @AfterEach
    void tearDown() {
        f.close();
    }

    private SecretBinding withFile(RotationFixture.Secret s, Path file, AtomicInteger reloads) throws Exception {
        Plugins.Target written = f.fileTarget("file", file);
        Plugins.Target reload = new Plugins.Target() {
            public String id() {
                return "reload";
            }

            public void deliver(String secretId, int version, SecretData value) {
                reloads.incrementAndGet();
            }

            public boolean reloads() {
                return true;
            }
        };
        return s.on(written, reload);
    }

    @Test
    void watch_aFileDeletedOrEditedByHand_isWrittenAgain_andItsReloadRuns() throws Exception {
        RotationFixture.Secret s = f.randomSecret("30d");
        Path file = TestDirs.credentials("drift").resolve("password");
        AtomicInteger reloads = new AtomicInteger();
        SecretBinding b = withFile(s, file, reloads);
        assertThat(f.rotator("a").rotate(b, true, false, "manual")).isInstanceOf(Outcome.Completed.class);
        String value = io.keyward.testing.Leaks.track(Files.readString(file));
        assertThat(f.rotator("a").sync(b)).isInstanceOf(Outcome.UpToDate.class);
        assertThat(reloads).hasValue(1);

        Files.writeString(file, "edited by hand");
        Outcome edited = f.rotator("a").sync(b);
        assertThat(edited).isInstanceOf(Outcome.Repaired.class);
        assertThat(((Outcome.Repaired) edited).targets()).containsExactly("file");
        assertThat(Files.readString(file).equals(value)).isTrue();
        assertThat(reloads).hasValue(2);

        Files.delete(file);
        assertThat(f.rotator("a").sync(b)).isInstanceOf(Outcome.Repaired.class);
        assertThat(Files.readString(file).equals(value)).isTrue();
        assertThat(f.rotator("a").sync(b)).isInstanceOf(Outcome.UpToDate.class);
        assertThat(f.auditText()).contains("\"event\":\"target.drift\"").contains("\"target\":\"file\"").doesNotContain(value);
    }

    @Test
    void syncForce_writesEveryTargetAgain() throws Exception {
        RotationFixture.Secret s = f.randomSecret("30d");
        assertThat(f.rotator("a").rotate(s.binding(), true, false, "manual")).isInstanceOf(Outcome.Completed.class);
        Fakes.Target again = new Fakes.Target("t1", "password");
        SecretBinding b = s.on(again);
        f.rotator("a").sync(b); // the ledger says t1 has it: nothing written
        assertThat(again.history).isEmpty();
        assertThat(f.rotator("a").sync(b, true)).isInstanceOf(Outcome.Delivered.class);
        assertThat(again.history).hasSize(1);
    }

    @Test
    void members_whoseSharedPolicyDiffers_doNotRotate_andOneRejectedNoticeNamesBoth() throws Exception {
        RotationFixture.Secret s = f.issuedSecret(Duration.ofMinutes(5));
        s.rotateAndFinish(f);
        f.clock.advance(Duration.ofDays(31));
        SecretBinding other = new SecretBinding(s.binding().policy(), s.binding().source(), List.of(),
                List.of(new Fakes.Target("t1", "api_key")), "another-policy-hash");
        f.register("a", s, s.binding());
        f.register("b", s, other);
        List<Plugins.Notice> notices = new ArrayList<>();
        Rotator a = f.rotator("a", Plugins.PhaseListener.none(), notices::add);

        Outcome o = a.rotate(s.binding(), false, false, "schedule");
        assertThat(o).isInstanceOf(Outcome.PolicyDiffers.class);
        assertThat(((Outcome.PolicyDiffers) o).member()).isEqualTo("b");
        assertThat(a.rotate(s.binding(), true, false, "manual")).isInstanceOf(Outcome.PolicyDiffers.class);
        assertThat(notices).extracting(Plugins.Notice::kind).containsExactly(Policy.NoticeKind.REJECTED);
        assertThat(notices.get(0).detail()).contains("members a (policy " + s.binding().shared() + ") and b (policy"
                + " another-policy-hash)");
        assertThat(f.store().metadata(s.binding().livePath()).orElseThrow().currentVersion()).isEqualTo(1);

        f.clock.advance(f.memberTimeout().plusSeconds(1)); // b falls silent: only live members count
        f.register("a", s, s.binding());
        assertThat(a.rotate(s.binding(), false, false, "schedule")).isNotInstanceOf(Outcome.PolicyDiffers.class);
    }
}
