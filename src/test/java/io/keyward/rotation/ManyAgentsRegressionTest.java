package io.keyward.rotation;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyward.policy.Policy;
import io.keyward.testing.TestVault;
import io.keyward.testing.VaultExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * One regression test per failure reported with two agents on two hosts sharing one OpenBao
 * (each failed on the core before it was reshaped): a host that never got a version another
 * host rotated, a takeover by an agent with another audit key that revoked the live key, a
 * failing rotation retried every minute, and old keys never revoked under max_versions 1.
 */
@ExtendWith(VaultExtension.class)
final class ManyAgentsRegressionTest {

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
    void hostB_receivesTheVersionHostARotated_andTheOldKeyWaitsForItsAcknowledgement() throws Exception {
        RotationFixture.Secret s = f.issuedSecret(Duration.ofMinutes(10));
        Fakes.Target onB = new Fakes.Target("t1", "api_key"); // the same target id as host A's
        s.issuer().consumers.add(onB);
        SecretBinding b = s.on(onB);
        f.register("a", s, s.binding());
        f.register("b", s, b);
        String first = s.rotateAndFinish(f).orElseThrow();
        assertThat(f.rotator("b").sync(b)).isInstanceOf(Outcome.Delivered.class);
        assertThat(first.equals(onB.holds())).as("host B has v1").isTrue();

        Outcome o = f.rotator("a").rotate(s.binding(), true, false, "manual");
        assertThat(o.describe()).contains("waiting for other members").contains("b/t1");
        f.clock.advance(Duration.ofMinutes(11));
        f.register("b", s, b); // b's heartbeat
        Outcome waiting = f.rotator("a").resume(s.binding());
        assertThat(waiting).isInstanceOf(Outcome.AwaitingMembers.class);
        assertThat(((Outcome.AwaitingMembers) waiting).pending()).containsExactly("b/t1");
        assertThat(s.issuer().accepts(first)).as("the old key stays valid while host B holds it").isTrue();

        assertThat(f.rotator("b").sync(b)).isInstanceOf(Outcome.Delivered.class);
        String second = f.live(s).orElseThrow();
        assertThat(second.equals(onB.holds())).as("host B has v2").isTrue();
        Outcome grace = f.rotator("a").resume(s.binding());
        assertThat(grace.describe()).as("the grace counts from host B's acknowledgement").contains("grace period");
        f.clock.advance(Duration.ofMinutes(11));
        assertThat(f.rotator("a").resume(s.binding())).isInstanceOf(Outcome.Completed.class);
        assertThat(s.issuer().accepts(first)).isFalse();
        assertThat(s.issuer().violations).isEmpty();
    }

    @Test
    void takeoverByAnAgentWithAnotherAuditKey_afterADeathBetweenTheLiveWriteAndPromoted_completes() throws Exception {
        RotationFixture.Secret s = f.issuedSecret(Duration.ZERO);
        String first = s.rotateAndFinish(f).orElseThrow();
        SecretStore dies = new CrashingStore(f.store(), s.binding().livePath());
        Rotator a = f.rotator("a", new Fingerprinter("audit-key-of-agent-a-0123456789".getBytes()), dies,
                Plugins.PhaseListener.none(), Plugins.Notifier.none());
        try {
            a.rotate(s.binding(), true, false, "manual");
        } catch (RotatorTest.SimulatedCrash expected) {
            // agent a died right after writing the new value to the live path
        }
        f.clock.advance(f.lease().plusSeconds(1));
        Rotator b = f.rotator("b", new Fingerprinter("audit-key-of-agent-b-9876543210".getBytes()), f.store(),
                Plugins.PhaseListener.none(), Plugins.Notifier.none());

        Outcome o = b.resume(s.binding());

        assertThat(o).isInstanceOf(Outcome.Completed.class);
        String live = f.live(s).orElseThrow();
        assertThat(s.issuer().accepts(live)).as("the live key is valid").isTrue();
        assertThat(s.issuer().accepts(first)).isFalse();
        assertThat(live.equals(s.target().holds())).isTrue();
        assertThat(s.issuer().violations).isEmpty();
    }

    @Test
    void aRotationThatKeepsFailing_backsOff_mintsNoKeyWhileWaiting_andSaysFailedOncePerSeries() throws Exception {
        RotationFixture.Secret s = f.issuedSecret(Duration.ZERO);
        s.rotateAndFinish(f);
        f.clock.advance(Duration.ofDays(31));
        RotationFixture.Secret failing = s.withVerifier((id, v) -> {
            throw new Plugins.Rejected("refused");
        });
        List<Plugins.Notice> notices = new ArrayList<>();
        Rotator r = f.rotator("a", Plugins.PhaseListener.none(), notices::add);

        assertThat(r.rotate(failing.binding(), false, false, "schedule")).isInstanceOf(Outcome.RolledBack.class);
        Outcome soon = r.rotate(failing.binding(), false, false, "schedule");
        assertThat(soon).isInstanceOf(Outcome.BackingOff.class);
        assertThat(((Outcome.BackingOff) soon).next()).isEqualTo(f.clock.instant().plus(Duration.ofMinutes(1)));
        f.clock.advance(Duration.ofMinutes(1));
        assertThat(r.rotate(failing.binding(), false, false, "schedule")).isInstanceOf(Outcome.RolledBack.class);
        Outcome twice = r.rotate(failing.binding(), false, false, "schedule");
        assertThat(((Outcome.BackingOff) twice).attempts()).isEqualTo(2);
        assertThat(((Outcome.BackingOff) twice).next()).isEqualTo(f.clock.instant().plus(Duration.ofMinutes(2)));

        assertThat(s.issuer().byRequest).as("a key minted per attempt, none while backing off").hasSize(3);
        assertThat(notices).extracting(Plugins.Notice::kind).containsExactly(Policy.NoticeKind.FAILED);
        JournalEntry e = r.journal(s.id()).orElseThrow().entry();
        assertThat(Start.failedAttempts(e.history())).isEqualTo(2);
        assertThat(Rotator.nextAttempt(e, s.binding().policy())).contains(((Outcome.BackingOff) twice).next());
        assertThat(r.rotate(failing.binding(), true, false, "manual")).as("rotate --now does not wait")
                .isInstanceOf(Outcome.RolledBack.class);
    }

    @Test
    void maxVersionsOne_theOldKeyIsStillRevoked() throws Exception {
        RotationFixture.Secret s = f.issuedSecret(Duration.ZERO);
        SecretPath live = s.binding().livePath();
        vault.admin("POST", live.mount() + "/metadata/" + live.path(), "{\"max_versions\":1}");
        String first = s.rotateAndFinish(f).orElseThrow();
        for (int i = 0; i < 3; i++) {
            Outcome o = f.rotator("a").rotate(s.binding(), true, false, "manual");
            assertThat(o).isInstanceOf(Outcome.Completed.class);
        }
        assertThat(s.issuer().accepts(first)).isFalse();
        assertThat(s.issuer().valid).containsExactly(f.live(s).orElseThrow());
        assertThat(s.issuer().revoked).hasSize(3);
    }

    @Test
    void aRetirementThatCannotBeDone_isNotCompleted_butAFailedNoticeNamingTheVersion() throws Exception {
        RotationFixture.Secret s = f.issuedSecret(Duration.ZERO);
        SecretPath live = s.binding().livePath();
        String first = s.rotateAndFinish(f).orElseThrow();
        List<Plugins.Notice> notices = new ArrayList<>();
        // An older keyward left this rotation at DELIVERED without a copy of the old key, and Vault kept one version.
        vault.admin("POST", live.mount() + "/metadata/" + live.path(), "{\"max_versions\":1}");
        OldJournals.inFlight(f, s, "delivered", true);

        Outcome o = f.rotator("a", Plugins.PhaseListener.none(), notices::add).resume(s.binding());

        assertThat(o).isInstanceOf(Outcome.NotRetired.class);
        assertThat(o.failed()).isTrue();
        assertThat(notices).extracting(Plugins.Notice::kind).containsExactly(Policy.NoticeKind.FAILED);
        assertThat(notices.get(0).detail()).contains("old version 1").contains("revoke it at the issuer by hand");
        assertThat(notices.get(0).version()).isEqualTo(1);
        assertThat(s.issuer().accepts(first)).as("nothing pretends it was revoked").isTrue();
        assertThat(f.rotator("a").journal(s.id()).orElseThrow().entry().history().get(0).outcome()).isEqualTo("not_retired");
    }

    /** Writes through to the store, and dies (like a killed process) right after a new version of the live path lands. */
    static final class CrashingStore extends ForwardingStore {
        private final SecretPath live;

        CrashingStore(SecretStore inner, SecretPath live) {
            super(inner);
            this.live = live;
        }

        @Override
        public int write(SecretPath p, SecretData d, java.util.OptionalInt e) throws StoreException {
            int v = super.write(p, d, e);
            if (p.equals(live) && v > 1) throw new RotatorTest.SimulatedCrash();
            return v;
        }
    }

    /** Passes every call to another store. */
    static class ForwardingStore implements SecretStore {
        private final SecretStore inner;

        ForwardingStore(SecretStore inner) {
            this.inner = inner;
        }

        public Optional<VersionedSecret> read(SecretPath p) throws StoreException {
            return inner.read(p);
        }

        public Optional<VersionedSecret> read(SecretPath p, int v) throws StoreException {
            return inner.read(p, v);
        }

        public int write(SecretPath p, SecretData d, java.util.OptionalInt e) throws StoreException {
            return inner.write(p, d, e);
        }

        public Optional<SecretMetadata> metadata(SecretPath p) throws StoreException {
            return inner.metadata(p);
        }

        public void writeCustomMetadata(SecretPath p, java.util.Map<String, String> c) throws StoreException {
            inner.writeCustomMetadata(p, c);
        }

        public List<String> list(SecretPath p) throws StoreException {
            return inner.list(p);
        }

        public void deleteVersions(SecretPath p, java.util.Collection<Integer> v) throws StoreException {
            inner.deleteVersions(p, v);
        }

        public void deleteAll(SecretPath p) throws StoreException {
            inner.deleteAll(p);
        }
    }
}
