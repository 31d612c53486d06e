package io.keyward.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keyward.testing.Leaks;
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

/**
 * keyward inside an OpenBao namespace: an AppRole login of that namespace, the secret, its journal
 * and keyward's state all in the namespace's own KV mount, none of it in the root namespace.
 */
@ExtendWith(VaultExtension.class)
final class NamespaceTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Test
    void loginKvAndJournal_stayInsideTheConfiguredNamespace(TestVault vault) throws Exception {
        String ns = vault.uniqueName("team");
        vault.admin("POST", "sys/namespaces/" + ns, "{}");
        vault.adminIn(ns, "POST", "sys/mounts/secret", "{\"type\":\"kv\",\"options\":{\"version\":\"2\"}}");
        vault.adminIn(ns, "PUT", "sys/policies/acl/keyward", JSON.writeValueAsString(Map.of("policy",
                "path \"secret/*\" { capabilities = [\"create\",\"read\",\"update\",\"delete\",\"list\"] }")));
        vault.adminIn(ns, "POST", "sys/auth/approle", "{\"type\":\"approle\"}");
        vault.adminIn(ns, "POST", "auth/approle/role/keyward", "{\"token_policies\":[\"keyward\"],\"token_ttl\":\"1h\"}");
        Path creds = TestDirs.credentials("namespace");
        Path roleId = Files.writeString(creds.resolve("role-id"), Leaks.track(vault.adminIn(ns, "GET",
                "auth/approle/role/keyward/role-id", null).path("data").path("role_id").asString()));
        Path secretId = Files.writeString(creds.resolve("secret-id"), Leaks.track(vault.adminIn(ns, "POST",
                "auth/approle/role/keyward/secret-id", "{}").path("data").path("secret_id").asString()));

        Path dir = TestDirs.fresh("namespace");
        String path = vault.uniqueName("apps") + "/db";
        String state = vault.uniqueName("state");
        Path file = creds.resolve("db");
        Path policy = Files.writeString(dir.resolve("policy.yaml"), String.join("\n",
                "secrets:",
                "  - id: db",
                "    path: " + path,
                "    generator: { type: random, length: 30 }",
                "    schedule: { every: 30d }",
                "    grace: 0s",
                "    targets: [{ id: app, type: file, path: " + file + " }]",
                ""));
        Path config = Files.writeString(dir.resolve("keyward.yaml"), String.join("\n",
                "agent: { id: ns-agent }",
                "vault:",
                "  address: \"" + vault.address() + "\"",
                "  namespace: " + ns,
                "  auth: { method: approle, role_id_file: " + roleId + ", secret_id_file: " + secretId + " }",
                "state: { mount: secret, path: " + state + ", dir: " + dir.resolve("state") + " }",
                "audit: { file: " + dir.resolve("audit.jsonl") + ", hmac_key_file: " + creds.resolve("hmac.key") + " }",
                "policy: " + policy,
                ""));
        Map<String, String> env = Map.of();

        CliTest.Run rotate = CliTest.run(env, "rotate", "db", "-c", config.toString());
        assertThat(rotate.code()).as(rotate.err()).isZero();
        assertThat(rotate.out()).contains("db: rotated v0 -> v1");
        String value = Leaks.track(Files.readString(file));
        CliTest.Run again = CliTest.run(env, "rotate", "db", "--now", "-c", config.toString());
        assertThat(again.out()).contains("db: rotated v1 -> v2");
        value = Leaks.track(Files.readString(file));

        JsonNode live = vault.adminIn(ns, "GET", "secret/data/" + path, null).path("data");
        assertThat(live.path("data").path("value").asString()).isEqualTo(value);
        assertThat(live.path("metadata").path("version").asInt()).isEqualTo(2);
        assertThat(vault.adminIn(ns, "LIST", "secret/metadata/" + state, null).path("data").path("keys"))
                .as("keyward's state (journal, membership) lives in the namespace").isNotEmpty();
        assertThatThrownBy(() -> vault.admin("GET", "secret/data/" + path, null)).hasMessageContaining("answered 404");
        assertThatThrownBy(() -> vault.admin("LIST", "secret/metadata/" + state, null)).hasMessageContaining("answered 404");

        JsonNode status = JSON.readTree(CliTest.run(env, "status", "--output", "json", "-c", config.toString()).out()).get(0);
        assertThat(status.path("live_version").asInt()).isEqualTo(2);
        assertThat(status.path("phase").asString()).isEqualTo("retired");
    }
}
