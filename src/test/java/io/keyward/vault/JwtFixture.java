package io.keyward.vault;

import io.keyward.testing.Leaks;
import io.keyward.testing.TestDirs;
import io.keyward.testing.TestVault;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.util.Base64;
import java.util.Map;
import tools.jackson.databind.json.JsonMapper;

/**
 * A {@code jwt} auth mount on the test Vault that trusts a key pair made here
 * ({@code jwt_validation_pubkeys}), a role {@code keyward} bound to audience {@code keyward} and
 * claim {@code project: payments}, and RS256 tokens signed with the private key, as an identity
 * provider (Kubernetes, a CI system, a cloud) would issue them.
 */
record JwtFixture(String mount, KeyPair keys, Path file) {

    static final String ISSUER = "https://idp.keyward.test";
    private static final JsonMapper JSON = JsonMapper.builder().build();

    static JwtFixture create(TestVault vault, String ttl, String maxTtl) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        KeyPair keys = g.generateKeyPair();
        String pem = "-----BEGIN PUBLIC KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(keys.getPublic().getEncoded())
                + "\n-----END PUBLIC KEY-----\n";
        String mount = vault.enableAuth("jwt");
        vault.admin("POST", "auth/" + mount + "/config", JSON.writeValueAsString(Map.of(
                "jwt_validation_pubkeys", java.util.List.of(pem), "bound_issuer", ISSUER)));
        vault.admin("POST", "auth/" + mount + "/role/keyward", JSON.writeValueAsString(Map.of(
                "role_type", "jwt", "user_claim", "sub", "bound_audiences", java.util.List.of("keyward"),
                "bound_claims", Map.of("project", "payments"), "token_policies", java.util.List.of(vault.kvPolicy()),
                "token_ttl", ttl, "token_max_ttl", maxTtl)));
        Path file = TestDirs.credentials("jwt").resolve("token");
        JwtFixture f = new JwtFixture(mount, keys, file);
        f.write("payments");
        return f;
    }

    /** Writes a fresh token for {@code project} to the file, as the identity provider's sidecar does. */
    String write(String project) throws Exception {
        long now = System.currentTimeMillis() / 1000;
        String token = sign(Map.of("iss", ISSUER, "sub", "host-a", "aud", "keyward", "project", project,
                "iat", now, "nbf", now - 5, "exp", now + 600));
        Files.writeString(file, token + "\n");
        return Leaks.track(token);
    }

    private String sign(Map<String, Object> claims) throws Exception {
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        String signed = b64.encodeToString(JSON.writeValueAsBytes(Map.of("alg", "RS256", "typ", "JWT"))) + "."
                + b64.encodeToString(JSON.writeValueAsBytes(claims));
        Signature s = Signature.getInstance("SHA256withRSA");
        s.initSign(keys.getPrivate());
        s.update(signed.getBytes(StandardCharsets.US_ASCII));
        return signed + "." + b64.encodeToString(s.sign());
    }

    VaultAuth.Jwt auth() {
        return new VaultAuth.Jwt(mount, "keyward", file);
    }
}
