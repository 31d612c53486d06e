package io.keyward.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyward.testing.TestDirs;
import io.keyward.testing.TestVault;
import io.keyward.testing.VaultExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** keyward fleet and keyward fleet forget from the command line, against a real OpenBao. */
@ExtendWith(VaultExtension.class)
final class FleetCommandTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Test
    void fleet_listsTheMembersAndTheirPendingAcks_forgetRemovesOne(TestVault vault) throws Exception {
        Path dir = TestDirs.fresh("fleet-command");
        Path secrets = TestDirs.credentials("fleet-command");
        String state = vault.uniqueName("state");
        String path = vault.uniqueName("apps") + "/db";
        Map<String, String> env = Map.of("VAULT_TOKEN", vault.rootToken());
        Path[] configs = new Path[2];
        for (int i = 0; i < 2; i++) {
            String host = "web-" + (i + 1);
            Path policy = Files.writeString(dir.resolve(host + ".yaml"), String.join("\n",
                    "secrets:",
                    "  - id: db",
                    "    path: " + path,
                    "    fields: [password]",
                    "    generator: { type: issuer, issuer: mem }",
                    "    schedule: { every: 30d }",
                    "    grace: 1h",
                    "    targets: [{ id: app, type: file, path: " + secrets.resolve(host + "-db") + " }]",
                    "issuers:",
                    "  mem: { type: command, issue: [bash, -c, 'echo k-$KEYWARD_REQUEST_ID'], revoke: [\"true\"] }",
                    ""));
            configs[i] = Files.writeString(dir.resolve(host + "-keyward.yaml"), String.join("\n",
                    "agent: { id: " + host + " }",
                    "vault: { address: \"" + vault.address() + "\" }",
                    "policy: " + policy,
                    "state: { mount: secret, path: " + state + ", dir: " + dir.resolve(host + "-state") + " }",
                    "audit: { file: " + dir.resolve(host + "-audit.jsonl") + ", hmac_key_file: " + secrets.resolve(host + ".key")
                            + " }",
                    ""));
        }
        assertThat(CliTest.run(env, "rotate", "db", "--now", "-c", configs[0].toString()).code()).isZero();
        assertThat(CliTest.run(env, "sync", "-c", configs[1].toString()).code()).isZero();
        CliTest.Run second = CliTest.run(env, "rotate", "db", "--now", "-c", configs[0].toString());
        assertThat(second.out()).contains("waiting for other members").contains("web-2/app");

        CliTest.Run json = CliTest.run(env, "fleet", "--output", "json", "-c", configs[0].toString());
        assertThat(json.code()).isZero();
        JsonNode rows = JSON.readTree(json.out());
        assertThat(rows).hasSize(2);
        JsonNode web2 = rows.get(0).path("agent").asString().equals("web-2") ? rows.get(0) : rows.get(1);
        assertThat(web2.path("state").asString()).isEqualTo("live");
        assertThat(web2.path("secrets").toString()).isEqualTo("[\"db\"]");
        assertThat(web2.path("pending_acks").toString()).isEqualTo("[\"db/app\"]");
        assertThat(web2.path("host").asString()).isNotBlank();

        CliTest.Run text = CliTest.run(env, "fleet", "-c", configs[1].toString());
        assertThat(text.out()).contains("AGENT").contains("web-1").contains("web-2").contains("db/app");

        CliTest.Run forget = CliTest.run(env, "fleet", "forget", "web-2", "-c", configs[0].toString());
        assertThat(forget.code()).isZero();
        assertThat(forget.out()).contains("forgot member web-2");
        assertThat(CliTest.run(env, "fleet", "forget", "web-2", "-c", configs[0].toString()).code()).isEqualTo(2);
        assertThat(CliTest.run(env, "resume", "-c", configs[0].toString()).out())
                .as("the forgotten host is not waited for").contains("grace period");
        for (Path f : new Path[] {secrets.resolve("web-1-db"), secrets.resolve("web-2-db")}) {
            io.keyward.testing.Leaks.track(Files.readString(f).strip());
        }
    }
}
