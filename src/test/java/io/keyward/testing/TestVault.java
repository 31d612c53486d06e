package io.keyward.testing;

import io.keyward.rotation.SecretPath;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.UUID;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A real Vault for a test: its address, a root token, and admin calls made with plain HTTP
 * (setup only: enabling auth methods, creating tokens). Tests isolate themselves by path.
 */
public final class TestVault {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private final URI address;
    private final String rootToken;
    private final String origin;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    TestVault(URI address, String rootToken, String origin) {
        this.address = address;
        this.rootToken = rootToken;
        this.origin = origin;
    }

    public URI address() {
        return address;
    }

    public String rootToken() {
        return rootToken;
    }

    /** Settings that log in with the root token. */
    public io.keyward.vault.VaultSettings rootSettings() {
        return io.keyward.vault.VaultSettings.of(address, new io.keyward.vault.VaultAuth.Token(
                java.util.Optional.of(rootToken), java.util.Optional.empty()));
    }

    /** How this Vault was obtained ("bao dev server pid N", "VAULT_ADDR", ...). */
    public String origin() {
        return origin;
    }

    /** A fresh path under the dev server's KV v2 mount "secret", unique to this call. */
    public SecretPath uniquePath(String name) {
        return SecretPath.of("secret", "t-" + UUID.randomUUID().toString().substring(0, 8) + "/" + name);
    }

    public String uniqueName(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /** Sends an admin request with the root token; fails the test on a non-2xx answer. */
    public JsonNode admin(String method, String apiPath, String jsonBody) {
        return admin(method, apiPath, jsonBody, rootToken);
    }

    public JsonNode admin(String method, String apiPath, String jsonBody, String token) {
        return request(null, method, apiPath, jsonBody, token);
    }

    /** An admin request with the root token inside a namespace (OpenBao's {@code X-Vault-Namespace}). */
    public JsonNode adminIn(String namespace, String method, String apiPath, String jsonBody) {
        return request(namespace, method, apiPath, jsonBody, rootToken);
    }

    private JsonNode request(String namespace, String method, String apiPath, String jsonBody, String token) {
        HttpRequest.Builder b = HttpRequest.newBuilder(address.resolve("/v1/" + apiPath))
                .timeout(Duration.ofSeconds(10))
                .header("X-Vault-Token", token)
                .method(method, jsonBody == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(jsonBody));
        if (namespace != null) b.header("X-Vault-Namespace", namespace);
        try {
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() / 100 != 2) {
                throw new AssertionError("test setup: " + method + " " + (namespace == null ? "" : namespace + "/") + apiPath
                        + " answered " + r.statusCode() + ": " + r.body());
            }
            return r.body().isEmpty() ? JSON.createObjectNode() : JSON.readTree(r.body());
        } catch (IOException e) {
            throw new AssertionError("test setup: " + method + " " + apiPath + " failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Enables an auth method at a fresh mount and returns the mount name. */
    public String enableAuth(String type) {
        String mount = uniqueName(type);
        admin("POST", "sys/auth/" + mount, "{\"type\":\"" + type + "\"}");
        return mount;
    }

    /** Creates a child token with the given policies and TTLs; returns the token (tracked as a secret). */
    public String createToken(String policies, String ttl, String explicitMaxTtl, boolean renewable) {
        StringBuilder body = new StringBuilder("{\"policies\":[");
        String[] ps = policies.split(",");
        for (int i = 0; i < ps.length; i++) body.append(i > 0 ? "," : "").append('"').append(ps[i]).append('"');
        body.append("],\"ttl\":\"").append(ttl).append("\",\"renewable\":").append(renewable);
        if (explicitMaxTtl != null) body.append(",\"explicit_max_ttl\":\"").append(explicitMaxTtl).append('"');
        body.append(",\"no_parent\":true}");
        String token = admin("POST", "auth/token/create", body.toString()).path("auth").path("client_token").asString();
        Leaks.track(token);
        return token;
    }

    /**
     * Writes {@code DIR/keyward.yaml} for one agent against this Vault: a fresh state path, the
     * state folder and audit file under {@code dir}, the audit key under {@code secrets}.
     */
    public java.nio.file.Path agentConfig(java.nio.file.Path dir, String agent, java.nio.file.Path policy,
                                          java.nio.file.Path secrets) throws IOException {
        return java.nio.file.Files.writeString(dir.resolve("keyward.yaml"), String.join("\n",
                "agent: { id: " + agent + " }",
                "vault: { address: \"" + address + "\" }",
                "state: { mount: secret, path: " + uniqueName("state") + ", dir: " + dir.resolve("state") + " }",
                "audit: { file: " + dir.resolve("audit.jsonl") + ", hmac_key_file: " + secrets.resolve("hmac.key") + " }",
                "policy: " + policy,
                ""));
    }

    /**
     * Writes the config of a {@code keyward run} service: its state under {@code work}, /metrics
     * on {@code port}, its audit file in {@code logs}.
     */
    public java.nio.file.Path serviceConfig(java.nio.file.Path work, java.nio.file.Path logs, String agent,
                                            java.nio.file.Path policy, int port) throws IOException {
        return java.nio.file.Files.writeString(work.resolve("keyward.yaml"), String.join("\n",
                "agent: { id: " + agent + " }",
                "vault: { address: \"" + address + "\" }",
                "state: { mount: secret, path: " + agent + "-state, dir: " + work.resolve("state") + " }",
                "policy: " + policy,
                "metrics: { listen: 127.0.0.1:" + port + " }",
                "audit: { file: " + logs.resolve("audit.jsonl") + ", hmac_key_file: " + work.resolve("hmac.key") + " }",
                ""));
    }

    /** Writes a policy granting full access to everything under "secret/" plus token self-service. */
    public String kvPolicy() {
        String name = uniqueName("kv");
        String hcl = "path \"secret/*\" { capabilities = [\"create\",\"read\",\"update\",\"delete\",\"list\"] }\n"
                + "path \"sys/internal/ui/mounts/*\" { capabilities = [\"read\"] }";
        admin("PUT", "sys/policies/acl/" + name, JSON.writeValueAsString(java.util.Map.of("policy", hcl)));
        return name;
    }

    @Override
    public String toString() {
        return "TestVault[" + address + ", " + origin + "]";
    }
}
