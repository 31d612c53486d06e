package io.keyward.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.keyward.rotation.SecretData;
import io.keyward.rotation.SecretPath;
import io.keyward.testing.Leaks;
import io.keyward.testing.TestDirs;
import io.keyward.testing.TestVault;
import io.keyward.testing.VaultExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Logging in, renewing and logging in again, against a real OpenBao. */
@ExtendWith(VaultExtension.class)
final class VaultAuthTest {

    @Test
    void tokenAuth_fromFile_learnsAccessorAndTtl(TestVault vault) throws Exception {
        String token = vault.createToken(vault.kvPolicy(), "1h", null, true);
        Path file = TestDirs.credentials("token").resolve("token");
        Files.writeString(file, token + "\n");

        try (Connected c = Connected.with(vault, new VaultAuth.Token(Optional.empty(), Optional.of(file)), s -> s)) {
            VaultClient.TokenInfo info = c.client.token();
            assertThat(info.accessor()).isNotBlank().isNotEqualTo(token);
            assertThat(info.ttl()).isBetween(Duration.ofMinutes(59), Duration.ofHours(1));
            assertThat(info.renewable()).isTrue();
            SecretPath path = vault.uniquePath("tokenauth");
            c.client.write(path, SecretData.of("k", "v"), OptionalInt.empty());
            assertThat(c.client.read(path)).isPresent();
            assertThat(c.auditText()).contains(info.accessor()).doesNotContain(token);
        }
    }

    @Test
    void appRole_logsIn_withIdsFromFiles(TestVault vault) throws Exception {
        AppRoleFixture role = AppRoleFixture.create(vault, "1h", "2h");
        try (Connected c = Connected.with(vault, role.auth(), s -> s)) {
            SecretPath path = vault.uniquePath("approle");
            c.client.write(path, SecretData.of("k", "v"), OptionalInt.empty());
            assertThat(c.client.read(path)).isPresent();
            assertThat(c.client.token().ttl()).isEqualTo(Duration.ofHours(1));
            assertThat(c.auditLines().get(0).path("event").asString()).isEqualTo("vault.login");
            assertThat(c.auditLines().get(0).path("method").asString()).isEqualTo("approle");
            assertThat(c.auditText()).doesNotContain(role.secretId()).doesNotContain(role.roleId());
        }
    }

    @Test
    void appRole_wrongSecretId_failsClearly(TestVault vault) throws Exception {
        AppRoleFixture role = AppRoleFixture.create(vault, "1h", "2h");
        String wrong = Leaks.secret("wrong-secret-id");
        Files.writeString(role.secretIdFile(), wrong);

        assertThatThrownBy(() -> Connected.with(vault, role.auth(), s -> s))
                .isInstanceOf(VaultAccessException.class)
                .hasMessageContaining("login of auth/" + role.mount() + "/login at " + vault.address())
                .hasMessageContaining("HTTP 400")
                .hasMessageContaining("invalid")
                .hasMessageNotContaining(wrong);
    }

    @Test
    void appRole_missingSecretIdFile_namesTheFile(TestVault vault) throws Exception {
        AppRoleFixture role = AppRoleFixture.create(vault, "1h", "2h");
        Files.delete(role.secretIdFile());
        assertThatThrownBy(() -> Connected.with(vault, role.auth(), s -> s))
                .isInstanceOf(VaultAccessException.class)
                .hasMessageContaining("AppRole secret_id file " + role.secretIdFile() + " does not exist");
    }

    @Test
    void jwt_logsIn_withTheTokenOfItsFile_readAgainAtEveryLogin(TestVault vault) throws Exception {
        JwtFixture jwt = JwtFixture.create(vault, "2s", "4s");
        String first = jwt.write("payments");
        try (Connected c = Connected.with(vault, jwt.auth(), s -> s)) {
            SecretPath path = vault.uniquePath("jwt");
            c.client.write(path, SecretData.of("k", "v"), OptionalInt.empty());
            assertThat(c.client.read(path)).isPresent();
            assertThat(c.auditLines().get(0).path("method").asString()).isEqualTo("jwt");
            String accessor = c.client.token().accessor();

            // The identity provider replaces the token; the login at the token's max TTL reads the new one.
            String second = jwt.write("payments");
            await().atMost(Duration.ofSeconds(20)).until(() -> count(c, "vault.login") >= 2);
            assertThat(c.client.token().accessor()).isNotEqualTo(accessor);
            assertThat(c.client.read(path)).isPresent();

            // A token the role refuses: the next login fails, naming the role and Vault's reason.
            jwt.write("other-project");
            await().atMost(Duration.ofSeconds(20)).until(() -> c.auditLines().stream().anyMatch(l -> l.path("event").asString()
                    .equals("vault.login") && l.path("outcome").asString().equals("failed")
                    && l.path("error").asString().contains("login (role keyward)")
                    && l.path("error").asString().contains("claim \"project\" does not match")));
            assertThat(c.auditText()).doesNotContain(first).doesNotContain(second);
        }
    }

    @Test
    void jwt_claimsTheRoleRefuses_failClearly_namingTheRole(TestVault vault) throws Exception {
        JwtFixture jwt = JwtFixture.create(vault, "1h", "2h");
        String refused = jwt.write("other-project");
        assertThatThrownBy(() -> Connected.with(vault, jwt.auth(), s -> s))
                .isInstanceOf(VaultAccessException.class)
                .hasMessageContaining("login (role keyward) of auth/" + jwt.mount() + "/login at " + vault.address())
                .hasMessageContaining("HTTP 400: error validating claims: claim \"project\" does not match")
                .hasMessageNotContaining(refused);

        Files.delete(jwt.file());
        assertThatThrownBy(() -> Connected.with(vault, jwt.auth(), s -> s))
                .isInstanceOf(VaultAccessException.class)
                .hasMessageContaining("the JWT file " + jwt.file() + " does not exist");
    }

    @Test
    void shortTtlToken_isRenewed_beforeItExpires(TestVault vault) throws Exception {
        AppRoleFixture role = AppRoleFixture.create(vault, "3s", "1h");
        try (Connected c = Connected.with(vault, role.auth(), s -> s)) {
            String accessor = c.client.token().accessor();
            SecretPath path = vault.uniquePath("renewed");
            c.client.write(path, SecretData.of("k", "v"), OptionalInt.empty());

            await().atMost(Duration.ofSeconds(20)).until(() -> count(c, "vault.renew") >= 3);

            assertThat(c.client.read(path)).isPresent();
            assertThat(c.client.token().accessor()).isEqualTo(accessor);
            assertThat(count(c, "vault.login")).isEqualTo(1);
        }
    }

    @Test
    void tokenAtMaxTtl_isReplacedByANewLogin(TestVault vault) throws Exception {
        AppRoleFixture role = AppRoleFixture.create(vault, "2s", "4s");
        try (Connected c = Connected.with(vault, role.auth(), s -> s)) {
            String first = c.client.token().accessor();
            SecretPath path = vault.uniquePath("relogin");
            c.client.write(path, SecretData.of("k", "v"), OptionalInt.empty());

            await().atMost(Duration.ofSeconds(20)).until(() -> count(c, "vault.login") >= 2);

            assertThat(c.client.token().accessor()).isNotEqualTo(first);
            assertThat(c.client.read(path)).isPresent();
        }
    }

    @Test
    void expiredToken_isReplaced_whenACallIsDenied(TestVault vault) throws Exception {
        String shortLived = vault.createToken(vault.kvPolicy(), "2s", null, false);
        Path file = TestDirs.credentials("token").resolve("token");
        Files.writeString(file, shortLived);
        try (Connected c = Connected.with(vault, new VaultAuth.Token(Optional.empty(), Optional.of(file)), s -> s)) {
            SecretPath path = vault.uniquePath("expired");
            c.client.write(path, SecretData.of("k", "v"), OptionalInt.empty());
            String first = c.client.token().accessor();
            // The operator's tooling drops a fresh token into the file; the old one runs out.
            Files.writeString(file, vault.createToken(vault.kvPolicy(), "1h", null, true));
            await().pollDelay(Duration.ofMillis(2500)).atMost(Duration.ofSeconds(10))
                    .until(() -> c.client.read(path).isPresent());

            assertThat(c.client.token().accessor()).isNotEqualTo(first);
        }
    }

    @Test
    void wrongToken_isAClear403(TestVault vault) throws Exception {
        String bogus = Leaks.secret("bogus-token");
        assertThatThrownBy(() -> Connected.with(vault, new VaultAuth.Token(Optional.of(bogus), Optional.empty()), s -> s))
                .isInstanceOf(VaultAccessException.class)
                .hasMessageContaining("token lookup of auth/token/lookup-self at " + vault.address())
                .hasMessageContaining("HTTP 403: permission denied")
                .hasMessageNotContaining(bogus)
                .satisfies(e -> assertThat(((VaultAccessException) e).denied()).isTrue());
    }

    @Test
    void deniedPath_isAClear403_withThePath(TestVault vault) throws Exception {
        String name = vault.uniqueName("narrow");
        vault.admin("PUT", "sys/policies/acl/" + name,
                "{\"policy\":\"path \\\"secret/data/allowed/*\\\" { capabilities = [\\\"read\\\"] }\"}");
        String token = vault.createToken(name, "1h", null, true);
        try (Connected c = Connected.with(vault, new VaultAuth.Token(Optional.of(token), Optional.empty()), s -> s)) {
            SecretPath path = vault.uniquePath("forbidden");
            assertThatThrownBy(() -> c.client.read(path))
                    .isInstanceOf(VaultAccessException.class)
                    .hasMessageContaining("read of " + path.mount() + "/data/" + path.path())
                    .hasMessageContaining("HTTP 403: permission denied");
            assertThat(c.auditText()).contains("\"outcome\":\"denied\"");
        }
    }

    @Test
    void unreachableVault_failsAfterBoundedRetries(TestVault vault) throws Exception {
        int port = io.keyward.testing.TestPorts.free();
        java.util.List<Duration> waits = new java.util.ArrayList<>();
        Path dir = TestDirs.fresh("unreachable");
        try (var audit = io.keyward.audit.JsonAuditLog.open(dir.resolve("audit.jsonl"), "t", java.time.Clock.systemUTC())) {
            VaultSettings settings = VaultSettings.of(java.net.URI.create("http://127.0.0.1:" + port),
                            new VaultAuth.Token(Optional.of("x-not-used"), Optional.empty()))
                    .withRetry(new io.keyward.rotation.Retrier.Backoff(4, Duration.ofMillis(10), Duration.ofMillis(40)));
            assertThatThrownBy(() -> VaultClient.connect(settings, audit, Connected.FINGERPRINTS,
                    java.time.Clock.systemUTC(), waits::add))
                    .isInstanceOf(VaultAccessException.class)
                    .hasMessageContaining("at http://127.0.0.1:" + port)
                    .hasMessageContaining("connection refused");
            assertThat(waits).hasSize(3);
            assertThat(Files.readAllLines(audit.file())).hasSize(4).allMatch(l -> l.contains("\"outcome\":\"failed\""));
        }
    }

    private static long count(Connected c, String event) throws Exception {
        return c.auditLines().stream().filter(l -> l.path("event").asString().equals(event)
                && l.path("outcome").asString().equals("ok")).count();
    }
}
