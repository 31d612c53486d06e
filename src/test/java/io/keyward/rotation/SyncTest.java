package io.keyward.rotation;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyward.testing.Leaks;
import io.keyward.testing.TestVault;
import io.keyward.testing.VaultExtension;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Versions written in Vault by someone else reach the targets; deleted ones never do; older ones
 * never replace newer; unhealthy targets roll back.
 */
@ExtendWith(VaultExtension.class)
final class SyncTest {

    private RotationFixture f;
    private final List<Plugins.Notice> notices = new ArrayList<>();

    @BeforeEach
    void setUp(TestVault vault) throws Exception {
        f = RotationFixture.open(vault);
    }

    @AfterEach
    void tearDown() {
        f.close();
    }

    private Rotator rotator() {
        return f.rotator("a", Plugins.PhaseListener.none(), notices::add);
    }

    @Test
    void aVersionWrittenByAnOperator_isVerifiedAndDelivered_once() throws Exception {
        RotationFixture.Secret s = f.randomSecret("30d");
        List<String> verified = new ArrayList<>();
        RotationFixture.Secret checked = s.withVerifier((id, v) -> verified.add(v.string("password").orElseThrow()));
        String pasted = Leaks.secret("pasted");
        f.store().write(s.binding().livePath(), SecretData.of("password", pasted), OptionalInt.empty());

        assertThat(rotator().sync(checked.binding())).isInstanceOf(Outcome.Completed.class);
        assertThat(s.target().holds()).isEqualTo(pasted);
        assertThat(verified).containsExactly(pasted);
        assertThat(rotator().sync(checked.binding())).isInstanceOf(Outcome.UpToDate.class);
        assertThat(s.target().history).hasSize(1);

        String second = Leaks.secret("pasted");
        f.store().write(s.binding().livePath(), SecretData.of("password", second), OptionalInt.empty());
        assertThat(rotator().sync(checked.binding())).isInstanceOf(Outcome.Completed.class);
        assertThat(s.target().holds()).isEqualTo(second);
        assertThat(f.auditText()).contains("\"trigger\":\"vault-change\"").doesNotContain(pasted, second);
    }

    @Test
    void aRotationByKeyward_isNotDeliveredAgainByTheWatch() throws Exception {
        RotationFixture.Secret s = f.randomSecret("30d");
        s.rotateAndFinish(f);
        assertThat(rotator().sync(s.binding())).isInstanceOf(Outcome.UpToDate.class);
        assertThat(s.target().history).hasSize(1);
    }

    @Test
    void aDeletedVersion_isNeverDelivered_andAlertedOnce() throws Exception {
        RotationFixture.Secret s = f.randomSecret("30d");
        String first = s.rotateAndFinish(f).orElseThrow();
        int v2 = f.store().write(s.binding().livePath(), SecretData.of("password", Leaks.secret("bad")), OptionalInt.empty());
        f.store().deleteVersions(s.binding().livePath(), List.of(v2));

        assertThat(rotator().sync(s.binding()).describe()).contains("v" + v2 + " is deleted in Vault: not delivered");
        assertThat(rotator().sync(s.binding()).describe()).contains("refused earlier");
        assertThat(s.target().holds()).isEqualTo(first);
        assertThat(notices).extracting(Plugins.Notice::word).containsExactly("rejected");
    }

    @Test
    void anUnhealthyTarget_getsThePreviousValueBack_andTheOldKeyIsNotRevoked() throws Exception {
        RotationFixture.Secret s = f.issuedSecret(Duration.ZERO);
        String first = s.rotateAndFinish(f).orElseThrow();
        Fakes.Target inner = s.target();
        List<String> restored = new ArrayList<>();
        Plugins.Target unhealthy = new Plugins.Target() {
            public String id() {
                return inner.id();
            }

            public void deliver(String id, int version, SecretData value) throws IOException {
                inner.deliver(id, version, value);
                throw new Plugins.Unhealthy("health check of " + id() + " failed: HTTP 503");
            }

            public boolean rollsBack() {
                return true;
            }

            public void restore(String id, int version, SecretData value) throws IOException {
                restored.add("v" + version);
                inner.deliver(id, version, value);
            }
        };
        SecretBinding b = s.on(unhealthy);

        Outcome o = rotator().rotate(b, true, false, "manual");

        assertThat(o).isInstanceOf(Outcome.Waiting.class);
        assertThat(o.describe()).contains("HTTP 503").contains("rolled back to v1");
        assertThat(restored).containsExactly("v1");
        assertThat(inner.holds()).isEqualTo(first);
        assertThat(s.issuer().accepts(first)).as("the old key the target holds again stays valid").isTrue();
        assertThat(s.issuer().violations).isEmpty();
        assertThat(notices).extracting(Plugins.Notice::word).containsExactly("degraded");
        assertThat(f.auditText()).contains("rotation.target_rolled_back");
    }

    /**
     * A watch that reads the live version behind (a standby that lags) never puts an older version
     * back on a target that this agent gave a newer one Vault still has, and does not take its
     * ledger for another Vault's.
     */
    @Test
    void sync_ofALiveReadBehind_leavesTheNewerVersionInPlace() throws Exception {
        RotationFixture.Secret s = f.randomSecret("30d");
        s.rotateAndFinish(f);
        String second = s.rotateAndFinish(f).orElseThrow();
        SecretStore behind = new Behind(f.store(), s.binding().livePath(), 1);

        Outcome o = f.rotator("a", RotationFixture.FINGERPRINTS, behind, Plugins.PhaseListener.none(), notices::add)
                .sync(s.binding());

        assertThat(s.target().holds()).as(o.describe()).isEqualTo(second);
        assertThat(notices).extracting(Plugins.Notice::detail).noneMatch(d -> d.contains("local ledger"));
    }

    /** The store as a lagging standby answers it: the newest version of one path is an older one. */
    private record Behind(SecretStore inner, SecretPath path, int version) implements SecretStore {
        @Override
        public Optional<VersionedSecret> read(SecretPath p) throws StoreException {
            return p.equals(path) ? inner.read(p, version) : inner.read(p);
        }

        @Override
        public Optional<VersionedSecret> read(SecretPath p, int v) throws StoreException {
            return inner.read(p, v);
        }

        @Override
        public int write(SecretPath p, SecretData d, OptionalInt expected) throws StoreException {
            return inner.write(p, d, expected);
        }

        @Override
        public Optional<SecretMetadata> metadata(SecretPath p) throws StoreException {
            return inner.metadata(p);
        }

        @Override
        public void writeCustomMetadata(SecretPath p, Map<String, String> custom) throws StoreException {
            inner.writeCustomMetadata(p, custom);
        }

        @Override
        public List<String> list(SecretPath folder) throws StoreException {
            return inner.list(folder);
        }

        @Override
        public void deleteVersions(SecretPath p, Collection<Integer> versions) throws StoreException {
            inner.deleteVersions(p, versions);
        }

        @Override
        public void deleteAll(SecretPath p) throws StoreException {
            inner.deleteAll(p);
        }
    }
}
