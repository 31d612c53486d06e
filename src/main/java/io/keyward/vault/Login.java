package io.keyward.vault;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/** Obtains a token by the configured method. Credentials are read from their files on every call. */
final class Login {

    private final VaultAuth auth;
    private final Transport transport;
    private final Clock clock;

    Login(VaultAuth auth, Transport transport, Clock clock) {
        this.auth = auth;
        this.transport = transport;
        this.clock = clock;
    }

    String method() {
        return auth.method();
    }

    String loginPath() {
        if (auth instanceof VaultAuth.AppRole a) return "auth/" + a.mount() + "/login";
        if (auth instanceof VaultAuth.Kubernetes k) return "auth/" + k.mount() + "/login";
        if (auth instanceof VaultAuth.Jwt j) return "auth/" + j.mount() + "/login";
        if (auth instanceof VaultAuth.Cert c) return "auth/" + c.mount() + "/login";
        return "auth/token/lookup-self";
    }

    TokenState login() throws VaultAccessException {
        String path = loginPath();
        if (auth instanceof VaultAuth.AppRole a) {
            String roleId = readCredential(a.roleIdFile(), "AppRole role_id file", path);
            String secretId = readCredential(a.secretIdFile(), "AppRole secret_id file", path);
            Transport.Reply r = loginCall("login", path, Map.of("role_id", roleId, "secret_id", secretId), List.of(roleId, secretId));
            return fromAuth(r, path);
        }
        if (auth instanceof VaultAuth.Kubernetes k) {
            return roleLogin(k.role(), k.jwtFile(), "Kubernetes service-account token file", path);
        }
        if (auth instanceof VaultAuth.Jwt j) return roleLogin(j.role(), j.jwtFile(), "JWT file", path);
        if (auth instanceof VaultAuth.Cert c) {
            Transport.Reply r = loginCall("login", path, Map.of(), List.of());
            return fromAuth(r, path);
        }
        VaultAuth.Token t = (VaultAuth.Token) auth;
        String token = t.file().isPresent() ? readCredential(t.file().get(), "token file", path)
                : t.token().orElseThrow();
        return lookup(token, true);
    }

    /** Looks a token up (lookup-self) to learn its accessor, TTL and renewability. */
    TokenState lookup(String token, boolean viaLogin) throws VaultAccessException {
        String path = "auth/token/lookup-self";
        Transport.Reply r = transport.get(token, "token lookup", path);
        if (!r.ok()) {
            throw transport.failure("token lookup", path, r, List.of(token));
        }
        JsonNode d = r.body().path("data");
        return new TokenState(token, d.path("accessor").asString(""),
                Duration.ofSeconds(d.path("ttl").asLong(0)), d.path("renewable").asBoolean(false),
                clock.instant(), viaLogin);
    }

    /** Renews the token in place; returns the new state. */
    TokenState renew(TokenState current, Duration increment) throws VaultAccessException {
        String path = "auth/token/renew-self";
        Transport.Reply r = transport.post(current.token(), "token renewal", path,
                Map.of("increment", increment.toSeconds() + "s"), List.of(current.token()));
        if (!r.ok()) {
            throw transport.failure("token renewal", path, r, List.of(current.token()));
        }
        JsonNode a = r.body().path("auth");
        return current.renewed(Duration.ofSeconds(a.path("lease_duration").asLong(0)), clock.instant());
    }

    /** Kubernetes and JWT logins: a role and a token read from its file, failures naming the role. */
    private TokenState roleLogin(String role, Path file, String what, String path) throws VaultAccessException {
        String jwt = readCredential(file, what, path);
        return fromAuth(loginCall("login (role " + role + ")", path, Map.of("role", role, "jwt", jwt), List.of(jwt)), path);
    }

    /** A login request: denied or refused logins fail with Vault's own words (never a credential). */
    private Transport.Reply loginCall(String what, String path, Map<String, Object> body, List<String> hide)
            throws VaultAccessException {
        Transport.Reply r = transport.post(null, "login", path, body, hide);
        if (!r.ok()) throw transport.failure(what, path, r, hide);
        return r;
    }

    private TokenState fromAuth(Transport.Reply r, String path) throws VaultAccessException {
        JsonNode a = r.body().path("auth");
        String token = a.path("client_token").asString("");
        if (token.isEmpty()) {
            throw new VaultAccessException("login", transport.address(), path, r.status(),
                    "the answer carried no client token", false, null);
        }
        return new TokenState(token, a.path("accessor").asString(""),
                Duration.ofSeconds(a.path("lease_duration").asLong(0)), a.path("renewable").asBoolean(false),
                clock.instant(), true);
    }

    private String readCredential(Path file, String what, String path) throws VaultAccessException {
        try {
            String s = Files.readString(file, StandardCharsets.UTF_8).strip();
            if (s.isEmpty()) {
                throw new VaultAccessException("login", transport.address(), path, 0,
                        "the " + what + " " + file + " is empty", false, null);
            }
            return s;
        } catch (NoSuchFileException e) {
            throw new VaultAccessException("login", transport.address(), path, 0,
                    "the " + what + " " + file + " does not exist", false, null);
        } catch (IOException e) {
            throw new VaultAccessException("login", transport.address(), path, 0,
                    "cannot read the " + what + " " + file + " (" + e.getClass().getSimpleName() + ")", false, null);
        }
    }
}
