package io.keyward.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keyward.rotation.CasConflictException;
import io.keyward.rotation.SecretData;
import io.keyward.rotation.SecretMetadata;
import io.keyward.rotation.SecretPath;
import io.keyward.rotation.VersionGoneException;
import io.keyward.rotation.VersionedSecret;
import io.keyward.testing.Leaks;
import io.keyward.testing.TestVault;
import io.keyward.testing.VaultExtension;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** KV v2 through the adapter against a real OpenBao: nested values, versions, CAS, metadata, custom metadata, lists. */
@ExtendWith(VaultExtension.class)
final class VaultClientKvTest {

    private TestVault vault;
    private Connected c;

    @BeforeEach
    void connect(TestVault vault) throws Exception {
        this.vault = vault;
        this.c = Connected.root(vault);
    }

    @AfterEach
    void close() {
        c.close();
    }

    @Test
    void writeThenRead_roundTripsFieldsAndVersion() throws Exception {
        SecretPath path = vault.uniquePath("db");
        String password = Leaks.secret("pw");
        int v1 = c.client.write(path, SecretData.of(Map.of("username", "app", "password", password)), OptionalInt.of(0));
        VersionedSecret read = c.client.read(path).orElseThrow();

        assertThat(v1).isEqualTo(1);
        assertThat(read.version()).isEqualTo(1);
        assertThat(read.data().string("password")).contains(password);
        assertThat(read.data().string("username")).contains("app");
        assertThat(read.created()).isAfter(java.time.Instant.parse("2020-01-01T00:00:00Z"));
    }

    @Test
    void read_givenVersion_returnsThatVersion() throws Exception {
        SecretPath path = vault.uniquePath("versions");
        String first = Leaks.secret("v1");
        String second = Leaks.secret("v2");
        c.client.write(path, SecretData.of("key", first), OptionalInt.empty());
        c.client.write(path, SecretData.of("key", second), OptionalInt.empty());

        assertThat(c.client.read(path, 1).orElseThrow().data().string("key")).contains(first);
        assertThat(c.client.read(path).orElseThrow().data().string("key")).contains(second);
        assertThat(c.client.read(path, 7)).isEmpty();
    }

    @Test
    void read_absentSecret_isEmpty() throws Exception {
        assertThat(c.client.read(vault.uniquePath("nothing"))).isEmpty();
        assertThat(c.client.metadata(vault.uniquePath("nothing"))).isEmpty();
    }

    /** Driver gap: nested values come back as JSON text from its getData(); the adapter keeps them nested. */
    @Test
    void nestedValues_stayNested() throws Exception {
        SecretPath path = vault.uniquePath("nested");
        String token = Leaks.secret("nested");
        Map<String, Object> fields = Map.of(
                "acks", Map.of("web", 3, "docbits", Map.of("ok", true)),
                "orgs", List.of("eu-1", "eu-2"),
                "count", 42,
                "token", token);
        c.client.write(path, SecretData.of(fields), OptionalInt.empty());

        SecretData back = c.client.read(path).orElseThrow().data();
        assertThat(back.fields().get("acks")).isInstanceOf(Map.class);
        assertThat(((Map<?, ?>) back.fields().get("acks")).get("docbits")).isEqualTo(Map.of("ok", true));
        assertThat(back.fields().get("orgs")).isEqualTo(List.of("eu-1", "eu-2"));
        assertThat(back.fields().get("count")).isEqualTo(42);
        assertThat(back).isEqualTo(SecretData.of(fields));
    }

    /** Driver gap: a CAS mismatch comes back as an ordinary response; the adapter throws. */
    @Test
    void write_casMismatch_throwsCasConflict() throws Exception {
        SecretPath path = vault.uniquePath("cas");
        c.client.write(path, SecretData.of("k", Leaks.secret("cas1")), OptionalInt.of(0));
        String loser = Leaks.secret("cas-loser");

        assertThatThrownBy(() -> c.client.write(path, SecretData.of("k", loser), OptionalInt.of(0)))
                .isInstanceOf(CasConflictException.class)
                .hasMessageContaining(path.toString())
                .hasMessageNotContaining(loser);
        assertThatThrownBy(() -> c.client.write(path, SecretData.of("k", loser), OptionalInt.of(5)))
                .isInstanceOf(CasConflictException.class);
        assertThat(c.client.metadata(path).orElseThrow().currentVersion()).isEqualTo(1);
        assertThat(c.client.write(path, SecretData.of("k", Leaks.secret("cas2")), OptionalInt.of(1))).isEqualTo(2);
        assertThat(c.auditText()).contains("\"outcome\":\"conflict\"");
    }

    /** Driver gap: no metadata API; the adapter addresses &lt;mount&gt;/metadata/... itself. */
    @Test
    void customMetadata_roundTrips() throws Exception {
        SecretPath path = vault.uniquePath("meta");
        c.client.write(path, SecretData.of("k", Leaks.secret("meta")), OptionalInt.empty());
        c.client.writeCustomMetadata(path, Map.of("owner", "payments", "rotation", "docbits-eu"));

        SecretMetadata meta = c.client.metadata(path).orElseThrow();
        assertThat(meta.customMetadata()).containsEntry("owner", "payments").containsEntry("rotation", "docbits-eu");
        assertThat(meta.currentVersion()).isEqualTo(1);
        assertThat(meta.version(1).orElseThrow().readable()).isTrue();
    }

    @Test
    void deleteVersion_makesItGone_andMetadataSaysSo() throws Exception {
        SecretPath path = vault.uniquePath("deleted");
        c.client.write(path, SecretData.of("k", Leaks.secret("del1")), OptionalInt.empty());
        c.client.write(path, SecretData.of("k", Leaks.secret("del2")), OptionalInt.empty());
        c.client.deleteVersions(path, List.of(2));

        assertThatThrownBy(() -> c.client.read(path))
                .isInstanceOf(VersionGoneException.class)
                .hasMessageContaining("version 2 of " + path + " was deleted");
        assertThatThrownBy(() -> c.client.read(path, 2)).isInstanceOf(VersionGoneException.class);
        assertThat(c.client.read(path, 1)).isPresent();
        assertThat(c.client.metadata(path).orElseThrow().version(2).orElseThrow().readable()).isFalse();
    }

    @Test
    void list_namesSecretsAndFolders() throws Exception {
        SecretPath base = vault.uniquePath("tree");
        c.client.write(base.child("a"), SecretData.of("k", "x"), OptionalInt.empty());
        c.client.write(base.child("sub/b"), SecretData.of("k", "y"), OptionalInt.empty());

        assertThat(c.client.list(base)).containsExactlyInAnyOrder("a", "sub/");
        assertThat(c.client.list(base.child("none"))).isEmpty();
    }

    @Test
    void deleteAll_removesEveryVersion() throws Exception {
        SecretPath path = vault.uniquePath("gone");
        c.client.write(path, SecretData.of("k", "x"), OptionalInt.empty());
        c.client.deleteAll(path);
        assertThat(c.client.read(path)).isEmpty();
        assertThat(c.client.metadata(path)).isEmpty();
        c.client.deleteAll(path);
    }

    /** Driver gap: its KV v2 mode rewrites every path; the adapter sends non-KV and KV v1 paths untouched. */
    @Test
    void kvV1AndSystemPaths_areNotRewritten() throws Exception {
        String mount = vault.uniqueName("kv1");
        vault.admin("POST", "sys/mounts/" + mount, "{\"type\":\"kv\",\"options\":{\"version\":\"1\"}}");
        String value = Leaks.secret("kv1");
        vault.admin("POST", mount + "/app", "{\"password\":\"" + value + "\"}");

        assertThat(c.client.readKv1(SecretPath.of(mount, "app")).orElseThrow().string("password")).contains(value);
        assertThat(c.client.readKv1(SecretPath.of(mount, "none"))).isEmpty();
        assertThat(c.client.kvVersion(mount)).isEqualTo(1);
        assertThat(c.client.kvVersion("secret")).isEqualTo(2);
    }

    @Test
    void everyCall_writesOneAuditLine_withFingerprintsAndNoValue() throws Exception {
        SecretPath path = vault.uniquePath("audited");
        String value = Leaks.secret("audited");
        c.client.write(path, SecretData.of("k", value), OptionalInt.of(0));
        c.client.read(path);
        c.client.metadata(path);
        c.client.writeCustomMetadata(path, Map.of("a", "b"));
        c.client.list(path);
        c.client.deleteVersions(path, List.of(1));

        var lines = c.auditLines();
        assertThat(lines).extracting(l -> l.path("event").asString())
                .containsExactly("vault.login", "vault.write", "vault.read", "vault.metadata.read",
                        "vault.metadata.write", "vault.list", "vault.delete");
        String fingerprint = Connected.FINGERPRINTS.of(SecretData.of("k", value));
        assertThat(lines.get(1).path("fingerprint").asString()).isEqualTo(fingerprint);
        assertThat(lines.get(2).path("fingerprint").asString()).isEqualTo(fingerprint);
        for (var l : lines) {
            assertThat(l.path("time").asString()).isNotEmpty();
            assertThat(l.path("agent").asString()).isEqualTo("test-agent");
            assertThat(l.path("outcome").asString()).isIn("ok", "not_found");
            assertThat(l.has("duration_ms")).isTrue();
            assertThat(l.path("accessor").asString()).isNotEmpty();
        }
        assertThat(lines.get(1).path("version").asInt()).isEqualTo(1);
        assertThat(c.auditText()).doesNotContain(value).doesNotContain(vault.rootToken());
    }
}
