package io.keyward.vault;

import io.github.jopenlibs.vault.EnvironmentLoader;
import io.github.jopenlibs.vault.SslConfig;
import io.github.jopenlibs.vault.Vault;
import io.github.jopenlibs.vault.VaultConfig;
import io.github.jopenlibs.vault.VaultException;
import io.github.jopenlibs.vault.api.Auth;
import io.github.jopenlibs.vault.api.Logical;
import io.github.jopenlibs.vault.json.Json;
import io.github.jopenlibs.vault.json.JsonValue;
import io.github.jopenlibs.vault.response.LogicalResponse;
import io.github.jopenlibs.vault.response.VaultResponse;
import java.io.IOException;
import java.net.ConnectException;
import java.net.http.HttpClient;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLException;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The one place that talks to vault-java-driver. It keeps the driver in its plain (KV v1) mode
 * so paths are sent exactly as given ({@code <mount>/data/...}, {@code <mount>/metadata/...}),
 * parses bodies itself so nested values stay nested, and turns every answer into a {@link Reply}
 * or a {@link VaultAccessException} without a token or value in its message.
 */
final class Transport {

    /** An answer from Vault: status and parsed body (empty object for no body). */
    record Reply(int status, JsonNode body) {
        boolean ok() {
            return status == 200 || status == 204;
        }
    }

    /** Vault answered with the driver's own exception; used only inside this class. */
    @FunctionalInterface
    private interface DriverCall {
        VaultResponse run(Vault vault) throws VaultException;
    }

    static final JsonMapper JSON = JsonMapper.builder().build();

    /** Reads no environment: keyward resolves VAULT_* itself, once, in its config loader. */
    private static final EnvironmentLoader NO_ENVIRONMENT = new EnvironmentLoader() {
        private static final long serialVersionUID = 1L;

        @Override
        public String loadVariable(String name) {
            return null;
        }
    };

    private final VaultSettings settings;
    private final HttpClient http;
    private final SslConfig ssl;
    private final String address;

    Transport(VaultSettings settings, HttpClient http, SslConfig ssl) {
        this.settings = settings;
        this.http = http;
        this.ssl = ssl;
        this.address = settings.address().toString();
    }

    String address() {
        return address;
    }

    /** A driver instance bound to one token (or none, for logins). Cheap: no I/O. */
    Vault driver(String token) {
        try {
            VaultConfig config = new VaultConfig()
                    .environmentLoader(NO_ENVIRONMENT)
                    .address(address)
                    .token(token)
                    .sslConfig(ssl)
                    .httpClient(http)
                    .openTimeout(seconds(settings.connectTimeout()))
                    .readTimeout(seconds(settings.requestTimeout()))
                    .engineVersion(1);
            if (settings.namespace().isPresent()) {
                config.nameSpace(settings.namespace().get());
            }
            return Vault.create(config.build(), 1).withRetries(0, 0);
        } catch (VaultException e) {
            throw new IllegalStateException("cannot set up the Vault client for " + address + ": "
                    + firstLine(e.getMessage()), e);
        }
    }

    Reply get(Vault vault, String op, String path) throws VaultAccessException {
        return call(op, path, List.of(), v -> v.logical().read(path), vault);
    }

    Reply list(Vault vault, String op, String path) throws VaultAccessException {
        return call(op, path, List.of(), v -> {
            LogicalResponse r = v.logical().list(path);
            if (r == null) {
                throw new VaultException("Vault responded with HTTP status code: 404", 404);
            }
            return r;
        }, vault);
    }

    Reply post(Vault vault, String op, String path, Map<String, Object> body, Collection<String> hide)
            throws VaultAccessException {
        Map<String, Object> driverBody = new LinkedHashMap<>();
        body.forEach((k, v) -> driverBody.put(k, toDriverJson(v)));
        return call(op, path, hide, v -> v.logical().write(path, driverBody), vault);
    }

    Reply delete(Vault vault, String op, String path) throws VaultAccessException {
        return call(op, path, List.of(), v -> v.logical().delete(path), vault);
    }

    Reply auth(Vault vault, String op, String path, AuthCall call, Collection<String> hide)
            throws VaultAccessException {
        return call(op, path, hide, v -> call.run(v.auth()), vault);
    }

    /** A call on the driver's {@link Auth} API. */
    @FunctionalInterface
    interface AuthCall {
        VaultResponse run(Auth auth) throws VaultException;
    }

    private Reply call(String op, String path, Collection<String> hide, DriverCall call, Vault vault)
            throws VaultAccessException {
        VaultResponse response;
        try {
            response = call.run(vault);
        } catch (VaultException e) {
            throw fromDriver(op, path, e, hide);
        } catch (RuntimeException e) {
            throw new VaultAccessException(op, address, path, 0,
                    "unexpected client failure: " + e.getClass().getSimpleName(), false, null);
        }
        int status = response.getRestResponse().getStatus();
        JsonNode body = parse(response.getRestResponse().getBody());
        if (status == 200 || status == 204) {
            return new Reply(status, body);
        }
        if (status == 404 || status == 400 || status == 403 || status == 401) {
            // Callers decide what these mean (absent, CAS conflict, denied).
            return new Reply(status, body);
        }
        throw new VaultAccessException(op, address, path, status, scrub(errors(body), hide),
                retryableStatus(status), null);
    }

    VaultAccessException failure(String op, String path, Reply reply, Collection<String> hide) {
        return new VaultAccessException(op, address, path, reply.status(), scrub(errors(reply.body()), hide),
                retryableStatus(reply.status()), null);
    }

    private VaultAccessException fromDriver(String op, String path, VaultException e, Collection<String> hide) {
        int status = e.getHttpStatusCode();
        if (status > 0) {
            String message = e.getMessage() == null ? "" : e.getMessage();
            int at = message.indexOf("Response body:");
            String detail = at < 0 ? "" : errors(parse(message.substring(at + "Response body:".length())
                    .strip().getBytes(StandardCharsets.UTF_8)));
            return new VaultAccessException(op, address, path, status, scrub(detail, hide),
                    retryableStatus(status), null);
        }
        Failure f = describe(e, hide);
        return new VaultAccessException(op, address, path, 0, f.why(), f.retryable(), f.neverSent(), f.answerLost(), null);
    }

    /** Why a request got no HTTP answer, whether it may have reached Vault, and whether trying again may help. */
    private record Failure(String why, boolean retryable, boolean neverSent, boolean answerLost) {}

    private Failure describe(VaultException e, Collection<String> hide) {
        if (inChain(e, java.net.http.HttpConnectTimeoutException.class)) {
            return new Failure("could not connect within " + settings.connectTimeout().toSeconds()
                    + " s (vault.timeouts.connect)", true, true, false);
        }
        if (inChain(e, ConnectException.class)) {
            return new Failure("connection refused (is Vault running, and is the address right?)", true, true, false);
        }
        if (inChain(e, HttpTimeoutException.class)) {
            return new Failure("timed out after " + settings.requestTimeout().toSeconds()
                    + " s without an answer (vault.timeouts.request)", true, false, true);
        }
        if (inChain(e, SSLException.class)) {
            return new Failure("TLS handshake failed: " + scrub(firstLine(find(e, SSLException.class).getMessage()), hide)
                    + " (check vault.tls.ca_file and the server's certificate)", false, false, false);
        }
        IOException io = (IOException) find(e, IOException.class);
        if (io != null) {
            String text = io.getMessage() == null ? "" : io.getMessage().toLowerCase(java.util.Locale.ROOT);
            if (text.contains("reset")) {
                return new Failure("connection reset before Vault answered", true, false, true);
            }
            if (io instanceof java.io.EOFException || text.contains("no bytes") || text.contains("closed")
                    || text.contains("eof")) {
                return new Failure("connection closed before Vault answered", true, false, true);
            }
            String detail = scrub(firstLine(io.getMessage()), hide);
            return new Failure("connection failed: " + (detail.isEmpty() ? io.getClass().getSimpleName() : detail),
                    true, false, true);
        }
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) root = root.getCause();
        return new Failure("client failure: " + root.getClass().getSimpleName(), false, false, false);
    }

    private static boolean inChain(Throwable t, Class<? extends Throwable> type) {
        return find(t, type) != null;
    }

    private static Throwable find(Throwable t, Class<? extends Throwable> type) {
        for (Throwable x = t; x != null; x = x.getCause() == x ? null : x.getCause()) {
            if (type.isInstance(x)) return x;
        }
        return null;
    }

    static boolean retryableStatus(int status) {
        return status == 412 || status == 429 || (status >= 500 && status != 501);
    }

    static JsonNode parse(byte[] body) {
        if (body == null || body.length == 0) {
            return JSON.createObjectNode();
        }
        try {
            return JSON.readTree(body);
        } catch (JacksonException e) {
            return JSON.createObjectNode();
        }
    }

    /** Vault's "errors" array joined, or empty. */
    static String errors(JsonNode body) {
        JsonNode errors = body.path("errors");
        if (!errors.isArray() || errors.isEmpty()) {
            return "";
        }
        List<String> parts = new ArrayList<>();
        for (JsonNode e : errors) {
            // Vault wraps some errors as "1 error occurred:\n\t* permission denied\n\n".
            String text = e.asString().replaceAll("^\\d+ errors? occurred:\\s*", "");
            for (String piece : text.split("\\n")) {
                String p = piece.strip();
                if (p.startsWith("* ")) p = p.substring(2).strip();
                if (!p.isEmpty()) parts.add(p);
            }
        }
        String s = String.join("; ", parts);
        return s.length() > 400 ? s.substring(0, 400) + "..." : s;
    }

    /** Removes every known secret string from a text that may end up in a message. */
    static String scrub(String text, Collection<String> hide) {
        String out = text == null ? "" : text;
        for (String h : hide) {
            if (h != null && h.length() >= 4) {
                out = out.replace(h, "[hidden]");
            }
        }
        return out;
    }

    private static JsonValue toDriverJson(Object value) {
        return Json.parse(JSON.writeValueAsString(value));
    }

    private static int seconds(java.time.Duration d) {
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, (d.toMillis() + 999) / 1000));
    }

    static String firstLine(String s) {
        if (s == null) return "";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
