package io.keyward.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyward.policy.Policy;
import io.keyward.testing.TestDirs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The Vault policy an agent needs: each path its configuration and rotation policy use, with only the capabilities used. */
final class VaultAccessTest {

    @Test
    void everyPathThePolicyUses_withOnlyItsCapabilities_andDuplicatesMerged() throws Exception {
        Path dir = TestDirs.fresh("vault-access");
        Path policy = Files.writeString(dir.resolve("policy.yaml"), String.join("\n",
                "issuers:",
                "  docbits: { type: docbits, mode: manual, base_url: \"https://docbits.example\", org: acme,"
                        + " auth: { path: config/docbits-admin } }",
                "notify: { url: \"https://hooks.example/n\", signing_key: { path: config/hooks } }",
                "secrets:",
                "  - id: db",
                "    path: apps/db",
                "    generator: { type: random }",
                "    schedule: { every: 30d }",
                "    targets:",
                "      - { id: hook, type: webhook, url: \"https://hooks.example/k\", signing_key: { path: config/hooks } }",
                "  - id: erp",
                "    mount: kv",
                "    path: erp/key",
                "    generator: { type: issuer, issuer: docbits }",
                "    schedule: { every: 90d }",
                ""));
        Path config = Files.writeString(dir.resolve("keyward.yaml"), String.join("\n",
                "agent: { id: web-1 }",
                "vault: { address: \"http://127.0.0.1:8200\" }",
                "state: { mount: secret, path: keyward/prod }",
                "audit: { hmac_key: { mount: secret, path: config/audit-key } }",
                "policy: " + policy,
                ""));
        AgentConfig agent = AgentConfig.load(config, Map.of("VAULT_TOKEN", "t"), "h");

        List<VaultAccess.Grant> grants = VaultAccess.needed(agent, Policy.load(policy));

        assertThat(grants).extracting(g -> g.path() + " " + g.ordered()).containsExactly(
                "secret/data/apps/db [create, read, update]",
                "secret/metadata/apps/db [read, update]",
                "secret/data/config/hooks [read]",
                "kv/data/erp/key [create, read, update]",
                "kv/metadata/erp/key [read, update]",
                "secret/data/keyward/prod/* [create, read, update]",
                "secret/metadata/keyward/prod/* [read, update, delete, list]",
                "secret/metadata/keyward/prod [list]",
                "secret/data/config/docbits-admin [read]",
                "secret/data/config/audit-key [create, read]",
                "sys/internal/ui/mounts/kv [read]",
                "sys/internal/ui/mounts/secret [read]",
                "auth/token/lookup-self [read]",
                "auth/token/renew-self [update]",
                "sys/capabilities-self [update]");
        assertThat(grants.get(2).why()).as("one path, both reasons")
                .containsExactly("webhook target hook of db: its signing key (field hmac_key)",
                        "notifications: the webhook's signing key (field hmac_key)");

        String hcl = VaultAccess.hcl(grants, "heading");
        assertThat(hcl).startsWith("# heading\n").contains("# webhook target hook of db: its signing key (field hmac_key)\n"
                + "# notifications: the webhook's signing key (field hmac_key)\n"
                + "path \"secret/data/config/hooks\" {\n  capabilities = [\"read\"]\n}\n");
        assertThat(VaultAccess.json(grants)).isEqualTo(Map.of("path", grants.stream().collect(
                java.util.stream.Collectors.toMap(VaultAccess.Grant::path, g -> Map.of("capabilities", g.ordered())))));
    }

    /** What the token lacks: "root" lacks nothing, "deny" everything, a folder is asked about through one entry in it. */
    @Test
    void missing_namesEachCapabilityTheTokenLacks() {
        VaultAccess.Grant data = new VaultAccess.Grant("secret/data/apps/db", java.util.Set.of("create", "read", "update"),
                List.of("secret db"));
        VaultAccess.Grant state = new VaultAccess.Grant("secret/metadata/keyward/*", java.util.Set.of("list", "delete"),
                List.of("state"));
        VaultAccess.Grant token = new VaultAccess.Grant("auth/token/renew-self", java.util.Set.of("update"), List.of("token"));
        assertThat(VaultAccess.probe(state)).isEqualTo("secret/metadata/keyward/keyward-check");

        List<VaultAccess.Missing> missing = VaultAccess.missing(List.of(data, state, token), Map.of(
                "secret/data/apps/db", java.util.Set.of("read", "update"),
                "secret/metadata/keyward/keyward-check", java.util.Set.of("deny"),
                "auth/token/renew-self", java.util.Set.of("root")));

        assertThat(missing).extracting(m -> m.capability() + " " + m.grant().path()).containsExactly(
                "create secret/data/apps/db", "delete secret/metadata/keyward/*", "list secret/metadata/keyward/*");
        assertThat(missing.get(0).describe()).isEqualTo("the token may not 'create' on secret/data/apps/db (secret db):"
                + " give it the policy keyward vault-policy prints");
        assertThat(VaultAccess.missing(List.of(data), Map.of())).hasSize(3);
    }
}
