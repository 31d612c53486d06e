package io.keyward.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyward.docbits.DocBitsSimulator;
import io.keyward.testing.Leaks;
import io.keyward.testing.TestDirs;
import io.keyward.testing.TestVault;
import io.keyward.testing.VaultExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** submit (standard input), confirm-revoked and sync from the command line: real OpenBao, the DocBits simulator. */
@ExtendWith(VaultExtension.class)
final class ManualCommandsTest {

    private DocBitsSimulator sim;
    private Path config;
    private Path keyFile;
    private Map<String, String> env;

    @BeforeEach
    void setUp(TestVault vault) throws Exception {
        sim = DocBitsSimulator.start(0, Clock.systemUTC());
        Path dir = TestDirs.fresh("manual-commands");
        Path secrets = TestDirs.credentials("manual-commands");
        keyFile = secrets.resolve("ion-key");
        Files.writeString(dir.resolve("policy.yaml"), String.join("\n",
                "issuers:",
                "  docbits-us: { type: docbits, mode: manual, base_url: \"" + sim.baseUrl() + "\", org: acme }",
                "secrets:",
                "  - id: docbits-us-key",
                "    path: " + vault.uniqueName("docbits") + "/us",
                "    fields: [api_key]",
                "    generator: { type: issuer, issuer: docbits-us }",
                "    schedule: { every: 90d }",
                "    grace: 0s",
                "    verify: [{ type: docbits, base_url: \"" + sim.baseUrl() + "\", orgs: [acme] }]",
                "    targets: [{ id: ion, type: file, path: " + keyFile + " }]",
                "  - id: plain",
                "    path: " + vault.uniqueName("apps") + "/plain",
                "    generator: { type: random }",
                "    schedule: { every: 30d }",
                "    targets: [{ id: app, type: file, path: " + secrets.resolve("plain") + " }]",
                ""));
        config = Files.writeString(dir.resolve("keyward.yaml"), String.join("\n",
                "agent: { id: manual-cli }",
                "vault: { address: \"" + vault.address() + "\" }",
                "state: { mount: secret, path: " + vault.uniqueName("state") + ", dir: " + dir.resolve("state") + " }",
                "audit: { file: " + dir.resolve("audit.jsonl") + ", hmac_key_file: " + secrets.resolve("hmac.key") + " }",
                ""));
        env = Map.of("VAULT_TOKEN", vault.rootToken());
    }

    @AfterEach
    void tearDown() {
        sim.close();
    }

    @Test
    void submitReadsStandardInput_thenConfirmRevokedCloses() throws Exception {
        String k1 = Leaks.track(sim.createKey("first", Set.of("acme")));
        CliTest.Run first = CliTest.runWithInput(k1 + "\n", env, "submit", "docbits-us-key", "-c", config.toString());
        assertThat(first.code()).as(first.out() + first.err()).isZero();
        assertThat(Files.readString(keyFile)).isEqualTo(k1);

        String k2 = Leaks.track(sim.createKey("second", Set.of("acme")));
        CliTest.Run second = CliTest.runWithInput(k2 + "\n", env, "submit", "docbits-us-key", "-c", config.toString());
        assertThat(second.code()).isZero();
        assertThat(second.out()).contains("may now be revoked in DocBits' settings");
        assertThat(Files.readString(keyFile)).isEqualTo(k2);

        sim.revoke(k1);
        CliTest.Run confirm = CliTest.run(env, "confirm-revoked", "docbits-us-key", "-c", config.toString());
        assertThat(confirm.code()).isZero();
        assertThat(confirm.out()).contains("rotated v1 -> v2");
        assertThat(CliTest.run(env, "confirm-revoked", "docbits-us-key", "-c", config.toString()).out())
                .contains("nothing waits for a revocation");
    }

    @Test
    void submitRefusesEmptyInput_andSecretsThatAreNotManual() {
        CliTest.Run empty = CliTest.runWithInput("", env, "submit", "docbits-us-key", "-c", config.toString());
        assertThat(empty.code()).isEqualTo(2);
        assertThat(empty.err()).contains("no key on standard input");

        CliTest.Run plain = CliTest.runWithInput(Leaks.secret("x") + "\n", env, "submit", "plain", "-c", config.toString());
        assertThat(plain.code()).isEqualTo(2);
        assertThat(plain.err()).contains("is not issued by hand");
    }

    @Test
    void sync_deliversWhatIsNotDeliveredYet_andSaysSo() throws Exception {
        CliTest.Run rotate = CliTest.run(env, "rotate", "plain", "--now", "-c", config.toString());
        assertThat(rotate.code()).isZero();
        CliTest.Run sync = CliTest.run(env, "sync", "-c", config.toString());
        assertThat(sync.out()).contains("synced 2 secrets: 0 delivered").contains("docbits-us-key: skipped, no value in Vault yet");
        assertThat(sync.code()).isZero();
    }
}
