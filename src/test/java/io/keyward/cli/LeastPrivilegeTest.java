package io.keyward.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keyward.docbits.DocBitsSimulator;
import io.keyward.testing.DocBitsIssuer;
import io.keyward.testing.KeywardProcess;
import io.keyward.testing.Leaks;
import io.keyward.testing.Receiver;
import io.keyward.testing.TestDirs;
import io.keyward.testing.TestPorts;
import io.keyward.testing.TestVault;
import io.keyward.testing.VaultExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * keyward under exactly the Vault policy {@code keyward vault-policy} prints, against the real
 * OpenBao: an AppRole bound to that policy alone rotates, syncs, reports and serves a policy of
 * several secrets (random ones, a DocBits-issued one whose admin key is in Vault, a webhook target
 * with a signing key, notifications, the fleet's audit fingerprint key in Vault), and cannot read a secret the policy does not name; with one
 * capability taken away, {@code keyward check} names exactly that path and capability.
 */
@ExtendWith(VaultExtension.class)
final class LeastPrivilegeTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Test
    void theAgentWorksUnderThePolicyItPrints_andReadsNothingElse(TestVault vault) throws Exception {
        String run = vault.uniqueName("least");
        Path work = TestDirs.credentials(run);
        Path logs = TestDirs.fresh(run);
        String hookKey = Leaks.secret("hook-key");
        String noticeKey = Leaks.secret("notice-key");
        vault.admin("POST", "secret/data/" + run + "/config/webhook", "{\"data\":{\"hmac_key\":\"" + hookKey + "\"}}");
        vault.admin("POST", "secret/data/" + run + "/config/notify", "{\"data\":{\"hmac_key\":\"" + noticeKey + "\"}}");
        vault.admin("POST", "secret/data/" + run + "/elsewhere", "{\"data\":{\"password\":\"" + Leaks.secret("other") + "\"}}");
        try (DocBitsSimulator sim = DocBitsSimulator.start(0, Clock.systemUTC());
             Receiver hook = Receiver.start(hookKey);
             Receiver notices = Receiver.start(noticeKey)) {
            vault.admin("POST", "secret/data/" + run + "/config/docbits-admin", "{\"data\":{\"api_key\":\""
                    + Leaks.track(sim.createKey("keyward-admin", Set.of("acme"))) + "\"}}");
            Path policy = Files.writeString(work.resolve("policy.yaml"), String.join("\n",
                    "issuers:",
                    DocBitsIssuer.apiMode("docbits", sim.baseUrl(), run + "/config/docbits-admin"),
                    "notify: { url: \"" + notices.url("/notices") + "\", signing_key: { path: " + run + "/config/notify } }",
                    "secrets:",
                    "  - id: db",
                    "    path: " + run + "/apps/db",
                    "    generator: { type: random }",
                    "    schedule: { every: 30d }",
                    "    grace: 0s",
                    "    targets:",
                    "      - { id: app, type: file, path: " + work.resolve("db") + " }",
                    "      - { id: hook, type: webhook, url: \"" + hook.url("/keyward") + "\", signing_key: { path: "
                            + run + "/config/webhook } }",
                    "  - id: cache",
                    "    path: " + run + "/apps/cache",
                    "    generator: { type: random }",
                    "    schedule: { every: 30d }",
                    "    watch: 1s",
                    "    targets: [{ id: app, type: file, path: " + work.resolve("cache") + " }]",
                    "  - id: docbits-key",
                    "    path: " + run + "/apps/docbits",
                    "    fields: [api_key]",
                    "    generator: { type: issuer, issuer: docbits }",
                    "    schedule: { every: 30d }",
                    "    grace: 0s",
                    "    targets: [{ id: app, type: file, path: " + work.resolve("docbits") + " }]",
                    ""));

            // The login: an AppRole whose tokens carry the printed policy and nothing else.
            String mount = vault.enableAuth("approle");
            String policyName = vault.uniqueName("keyward");
            Path roleId = work.resolve("role-id");
            Path secretId = work.resolve("secret-id");
            Path config = Files.writeString(work.resolve("keyward.yaml"), String.join("\n",
                    "agent: { id: " + run + " }",
                    "vault:",
                    "  address: \"" + vault.address() + "\"",
                    "  auth: { method: approle, mount: " + mount + ", role_id_file: " + roleId + ", secret_id_file: "
                            + secretId + " }",
                    "state: { mount: secret, path: " + run + "/state, dir: " + work.resolve("state") + " }",
                    "metrics: { listen: 127.0.0.1:" + TestPorts.free() + " }",
                    "audit: { file: " + logs.resolve("audit.jsonl") + ", hmac_key_file: " + work.resolve("hmac.key")
                            + ", hmac_key: { path: " + run + "/config/audit-key } }",
                    "policy: " + policy,
                    ""));
            CliTest.Run printed = CliTest.run(Map.of("VAULT_TOKEN", "unused"), "vault-policy", "-c", config.toString());
            assertThat(printed.code()).as(printed.err()).isZero();
            vault.admin("PUT", "sys/policies/acl/" + policyName, JSON.writeValueAsString(Map.of("policy", printed.out())));
            vault.admin("POST", "auth/" + mount + "/role/keyward", "{\"token_policies\":[\"" + policyName
                    + "\"],\"token_no_default_policy\":true,\"token_ttl\":\"1h\"}");
            String role = Leaks.track(vault.admin("GET", "auth/" + mount + "/role/keyward/role-id", null)
                    .path("data").path("role_id").asString());
            String secret = Leaks.track(vault.admin("POST", "auth/" + mount + "/role/keyward/secret-id", "{}")
                    .path("data").path("secret_id").asString());
            Files.writeString(roleId, role);
            Files.writeString(secretId, secret);
            Map<String, String> env = Map.of();

            for (String id : new String[] {"db", "cache", "docbits-key"}) {
                CliTest.Run first = CliTest.run(env, "rotate", id, "-c", config.toString());
                assertThat(first.code()).as(id + ": " + first.err() + first.out()).isZero();
                assertThat(first.out()).contains(id + ": rotated v0 -> v1");
            }
            CliTest.Run again = CliTest.run(env, "rotate", "db", "--now", "-c", config.toString());
            assertThat(again.code()).as(again.err() + again.out()).isZero();
            assertThat(again.out()).contains("db: rotated v1 -> v2");
            assertThat(hook.requests()).isNotEmpty().allMatch(Receiver.Request::signed);
            // Ended rotations leave no copy of a value in keyward's state (the policy lets it delete them).
            for (String folder : new String[] {"pending", "retiring", "inflight"}) {
                assertThatThrownBy(() -> vault.admin("LIST", "secret/metadata/" + run + "/state/" + folder, null))
                        .as(folder).hasMessageContaining("answered 404");
            }
            for (String[] command : new String[][] {{"sync"}, {"status"}, {"plan"}, {"history", "db"}, {"check"}}) {
                String[] args = java.util.stream.Stream.concat(java.util.Arrays.stream(command),
                        java.util.stream.Stream.of("-c", config.toString())).toArray(String[]::new);
                CliTest.Run r = CliTest.run(env, args);
                assertThat(r.code()).as(String.join(" ", command) + ": " + r.err() + r.out()).isZero();
            }
            assertThat(vault.admin("GET", "secret/data/" + run + "/config/audit-key", null).path("data").path("data")
                    .path("key").asString()).as("the shared fingerprint key, created under the policy").isNotEmpty();
            JsonNode status = JSON.readTree(CliTest.run(env, "status", "--output", "json", "-c", config.toString()).out());
            assertThat(status).hasSize(3);

            try (KeywardProcess service = new KeywardProcess("service", config, logs, env)) {
                service.start();
                service.awaitReady(60);
                // A version written by hand reaches its file through the service's watch.
                String byHand = Leaks.secret("by-hand");
                vault.admin("POST", "secret/data/" + run + "/apps/cache", "{\"data\":{\"value\":\"" + byHand + "\"}}");
                long until = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
                while (!Files.readString(work.resolve("cache")).equals(byHand) && System.nanoTime() < until) Thread.sleep(100);
                assertThat(Files.readString(work.resolve("cache")).equals(byHand)).as("delivered by the service").isTrue();
                assertThat(service.stop()).isZero();
                assertThat(service.log()).doesNotContain("permission denied").doesNotContain(" 403");
            }

            // One capability taken from the printed policy: keyward check names exactly that path and capability.
            String metadata = "secret/metadata/" + run + "/apps/db";
            String whole = "path \"" + metadata + "\" {\n  capabilities = [\"read\", \"update\"]\n}";
            assertThat(printed.out()).contains(whole);
            vault.admin("PUT", "sys/policies/acl/" + policyName, JSON.writeValueAsString(Map.of("policy",
                    printed.out().replace(whole, "path \"" + metadata + "\" {\n  capabilities = [\"read\"]\n}"))));
            CliTest.Run check = CliTest.run(env, "check", "-c", config.toString());
            assertThat(check.code()).as(check.out()).isEqualTo(ExitCode.VAULT.code);
            assertThat(check.err().lines()).containsExactly("keyward: the token may not 'update' on " + metadata
                    + " (secret db: its versions and keyward's marks (custom_metadata) on secret/" + run + "/apps/db):"
                    + " give it the policy keyward vault-policy prints");
            assertThat(check.out()).contains("1 capability missing");
            // A rotation that meets the denied call names path and capability, and consumers keep what they have.
            String before = Files.readString(work.resolve("db"));
            CliTest.Run denied = CliTest.run(env, "rotate", "db", "--now", "-c", config.toString());
            assertThat(denied.code()).as(denied.out()).isEqualTo(ExitCode.ROTATION_FAILED.code);
            assertThat(denied.out() + denied.err()).contains("HTTP 403").contains("(the token needs 'update' on "
                    + metadata + "; keyward vault-policy prints the Vault policy keyward needs)");
            assertThat(Files.readString(work.resolve("db")).equals(before)).as("the file keeps its value").isTrue();
            // With the capability back, the rotation that waited is finished: the file has the live value.
            vault.admin("PUT", "sys/policies/acl/" + policyName, JSON.writeValueAsString(Map.of("policy", printed.out())));
            CliTest.Run resumed = CliTest.run(env, "resume", "-c", config.toString());
            assertThat(resumed.code()).as(resumed.out() + resumed.err()).isZero();
            JsonNode live = vault.admin("GET", "secret/data/" + run + "/apps/db", null).path("data");
            assertThat(live.path("metadata").path("version").asInt()).isEqualTo(3);
            assertThat(Files.readString(work.resolve("db")).equals(live.path("data").path("value").asString()))
                    .as("the file has the live value").isTrue();

            // The same login cannot read what the policy does not name.
            String token = Leaks.track(vault.admin("POST", "auth/" + mount + "/login", JSON.writeValueAsString(
                    Map.of("role_id", role, "secret_id", secret))).path("auth").path("client_token").asString());
            assertThatThrownBy(() -> vault.admin("GET", "secret/data/" + run + "/elsewhere", null, token))
                    .hasMessageContaining("403");
            assertThatThrownBy(() -> vault.admin("LIST", "secret/metadata/" + run, null, token)).hasMessageContaining("403");
        }
    }
}
