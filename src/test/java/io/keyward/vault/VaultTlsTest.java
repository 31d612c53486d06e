package io.keyward.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keyward.rotation.SecretData;
import io.keyward.rotation.SecretPath;
import io.keyward.testing.DevTlsVault;
import io.keyward.testing.TestDirs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** TLS towards a real OpenBao started with -dev-tls (its own CA), and TLS certificate login. */
final class VaultTlsTest {

    private static DevTlsVault vault;

    @BeforeAll
    static void start() throws Exception {
        vault = DevTlsVault.start();
    }

    @AfterAll
    static void stop() {
        if (vault != null) vault.close();
    }

    @Test
    void defaultTrust_refusesAnUnknownCa_withAClearMessage() {
        assertThatThrownBy(() -> Connected.with(vault.asTestVault(), vault.rootAuth(), s -> s))
                .isInstanceOf(VaultAccessException.class)
                .hasMessageContaining("at " + vault.address())
                .hasMessageContaining("TLS handshake failed")
                .hasMessageContaining("check vault.tls.ca_file");
    }

    @Test
    void caFile_isTrusted() throws Exception {
        TlsSettings tls = new TlsSettings(Optional.of(vault.caFile()), Optional.empty(), Optional.empty(), false);
        try (Connected c = Connected.with(vault.asTestVault(), vault.rootAuth(), s -> s.withTls(tls))) {
            SecretPath path = SecretPath.of("secret", "tls/ok");
            c.client.write(path, SecretData.of("k", "v"), OptionalInt.empty());
            assertThat(c.client.read(path)).isPresent();
        }
    }

    /** VAULT_TLS_SERVER_NAME / vault.tls.server_name: the name asked for (SNI) is the one the certificate must carry. */
    @Test
    void serverName_isTheNameVerified() throws Exception {
        TlsSettings carried = new TlsSettings(Optional.of(vault.caFile()), Optional.empty(), Optional.empty(), false,
                Optional.of("localhost"));
        try (Connected c = Connected.with(vault.asTestVault(), vault.rootAuth(), s -> s.withTls(carried))) {
            assertThat(c.client.kvVersion("secret")).isEqualTo(2);
        }
        TlsSettings other = new TlsSettings(Optional.of(vault.caFile()), Optional.empty(), Optional.empty(), false,
                Optional.of("vault.example.invalid"));
        assertThatThrownBy(() -> Connected.with(vault.asTestVault(), vault.rootAuth(), s -> s.withTls(other)))
                .isInstanceOf(VaultAccessException.class)
                .hasMessageContaining("TLS handshake failed");
    }

    @Test
    void certificateLogin_withAClientCertificate() throws Exception {
        Path dir = TestDirs.credentials("tls");
        Path pkcs8 = dir.resolve("client-key.pem");
        Process p = new ProcessBuilder("openssl", "pkcs8", "-topk8", "-nocrypt", "-in", vault.keyFile().toString(),
                "-out", pkcs8.toString()).redirectErrorStream(true).start();
        assertThat(p.waitFor()).as("openssl pkcs8").isZero();
        vault.admin("POST", "sys/auth/cert", "{\"type\":\"cert\"}");
        String policy = "path \\\"secret/*\\\" { capabilities = [\\\"create\\\",\\\"read\\\",\\\"update\\\"] }";
        vault.admin("PUT", "sys/policies/acl/certpol", "{\"policy\":\"" + policy + "\"}");
        vault.admin("POST", "auth/cert/certs/keyward", "{\"certificate\":" + jsonString(Files.readString(vault.certFile()))
                + ",\"token_policies\":[\"certpol\"],\"token_ttl\":\"1h\"}");

        TlsSettings tls = new TlsSettings(Optional.of(vault.caFile()), Optional.of(vault.certFile()), Optional.of(pkcs8), false);
        try (Connected c = Connected.with(vault.asTestVault(), new VaultAuth.Cert("cert"), s -> s.withTls(tls))) {
            assertThat(c.client.token().ttl().toMinutes()).isEqualTo(60);
            SecretPath path = SecretPath.of("secret", "tls/cert");
            c.client.write(path, SecretData.of("k", "v"), OptionalInt.empty());
            assertThat(c.client.read(path)).isPresent();
            assertThat(c.auditLines().get(0).path("method").asString()).isEqualTo("cert");
        }
    }

    @Test
    void sec1Key_isRefused_withHowToConvertIt() {
        TlsSettings tls = new TlsSettings(Optional.of(vault.caFile()), Optional.of(vault.certFile()),
                Optional.of(vault.keyFile()), false);
        assertThatThrownBy(() -> Connected.with(vault.asTestVault(), new VaultAuth.Cert("cert"), s -> s.withTls(tls)))
                .isInstanceOf(VaultAccessException.class)
                .hasMessageContaining("vault.tls.client_key_file " + vault.keyFile())
                .hasMessageContaining("openssl pkcs8 -topk8");
    }

    @Test
    void skipVerify_connects_andWarnsInTheLog() throws Exception {
        TlsSettings tls = new TlsSettings(Optional.empty(), Optional.empty(), Optional.empty(), true);
        try (Connected c = Connected.with(vault.asTestVault(), vault.rootAuth(), s -> s.withTls(tls))) {
            assertThat(c.client.kvVersion("secret")).isEqualTo(2);
        }
        assertThat(Files.readString(TestDirs.logs().resolve("keyward-test.log")))
                .contains("TLS verification towards Vault at " + vault.address() + " is OFF (vault.tls.skip_verify: true)");
    }

    @Test
    void missingCaFile_isNamed() {
        Path missing = Path.of("/nonexistent/ca.pem");
        TlsSettings tls = new TlsSettings(Optional.of(missing), Optional.empty(), Optional.empty(), false);
        assertThatThrownBy(() -> Connected.with(vault.asTestVault(), vault.rootAuth(), s -> s.withTls(tls)))
                .isInstanceOf(VaultAccessException.class)
                .hasMessageContaining("at " + vault.address())
                .hasMessageContaining("vault.tls.ca_file /nonexistent/ca.pem cannot be read");
    }

    private static String jsonString(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
    }
}
