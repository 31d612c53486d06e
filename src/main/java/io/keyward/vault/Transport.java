package io.keyward.vault;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpTimeoutException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The one place that talks HTTP to Vault ({@link VaultHttp}: at most {@code vault.max_connections}
 * connections, kept alive). Paths are sent exactly as given ({@code <mount>/data/...},
 * {@code <mount>/metadata/...}); bodies are parsed here so nested values stay nested; every
 * answer becomes a {@link Reply} or a {@link VaultAccessException} without a token or value in
 * its message.
 */
final class Transport implements AutoCloseable {

    /**
     * An answer from Vault: status and parsed body (empty object for no body). {@code forwarded}: a
     * write that a standby redirected before this answer came; OpenBao redirects when forwarding
     * to the active node failed, and the active node may have carried it out all the same.
     */
    record Reply(int status, JsonNode body, boolean forwarded) {
        Reply(int status, JsonNode body) {
            this(status, body, false);
        }

        boolean ok() {
            return status == 200 || status == 204;
        }
    }

    static final JsonMapper JSON = JsonMapper.builder().build();

    /** Redirects followed for one request at the most (a standby to the active node is one). */
    static final int MAX_REDIRECTS = 3;

    private final VaultSettings settings;
    private final SSLContext tls;
    private final ReadIndex index = new ReadIndex();
    private final VaultHttp http;
    private final String address;
    /** Clients of the nodes redirects pointed at, by origin ({@code scheme://host:port}). */
    private final Map<String, VaultHttp> redirected = new java.util.concurrent.ConcurrentHashMap<>();

    Transport(VaultSettings settings, SSLContext tls) {
        this.settings = settings;
        this.tls = tls;
        this.address = settings.address().toString();
        this.http = client(settings.address(), settings.tls().serverName());
    }

    /** {@code serverName}: of the configured address only; a node a redirect points at is verified by its own name. */
    private VaultHttp client(URI at, java.util.Optional<String> serverName) {
        return new VaultHttp(at, tls, !settings.tls().skipVerify(), settings.connectTimeout(),
                settings.requestTimeout(), settings.maxConnections(), settings.namespace(), index, serverName);
    }

    String address() {
        return address;
    }

    /** Whether the server sent an {@code X-Vault-Index} in any answer so far. */
    boolean indexSeen() {
        return index.current() != null;
    }

    /** The most connections to Vault open at one moment so far. */
    int peakConnections() {
        return http.peakConnections();
    }

    Reply get(String token, String op, String path) throws VaultAccessException {
        return call(op, path, List.of(), "GET", token, null);
    }

    /** A read answered by the node at the address itself, never forwarded for consistency (what it says of itself). */
    Reply getHere(String token, String op, String path) throws VaultAccessException {
        return call(op, path, List.of(), "GET", token, null, null, false);
    }

    Reply list(String token, String op, String path) throws VaultAccessException {
        return call(op, path, List.of(), "GET", token, null, "list=true");
    }

    Reply post(String token, String op, String path, Map<String, Object> body, Collection<String> hide)
            throws VaultAccessException {
        return call(op, path, hide, "POST", token, JSON.writeValueAsBytes(body));
    }

    Reply delete(String token, String op, String path) throws VaultAccessException {
        return call(op, path, List.of(), "DELETE", token, null);
    }

    private Reply call(String op, String path, Collection<String> hide, String method, String token, byte[] body)
            throws VaultAccessException {
        return call(op, path, hide, method, token, body, null);
    }

    private Reply call(String op, String path, Collection<String> hide, String method, String token, byte[] body,
                       String query) throws VaultAccessException {
        return call(op, path, hide, method, token, body, query, true);
    }

    private Reply call(String op, String path, Collection<String> hide, String method, String token, byte[] body,
                       String query, boolean consistent) throws VaultAccessException {
        VaultHttp.Answer answer;
        String sent = query == null ? path : path + (path.contains("?") ? "&" : "?") + query;
        URI at = settings.address();
        VaultHttp via = http;
        boolean write = !method.equals("GET");
        int hop = 0;
        for (; ; hop++) {
            try {
                answer = via.send(method, sent, token, body, consistent);
            } catch (IOException e) {
                Failure f = describe(e, hide);
                String why = hop == 0 ? f.why() : f.why() + " at the active node " + origin(at) + " (a standby redirected there)";
                boolean forwarded = hop > 0 && write; // the standby may have forwarded it before it redirected
                throw new VaultAccessException(op, address, path, 0, why, f.retryable(), f.neverSent() && !forwarded,
                        f.answerLost() || forwarded, null);
            } catch (RuntimeException e) {
                throw new VaultAccessException(op, address, path, 0,
                        "unexpected client failure: " + e.getClass().getSimpleName(), false, null);
            }
            if (!redirect(answer.status()) || answer.location() == null || hop == MAX_REDIRECTS) break;
            // a standby that does not forward, or whose forwarding failed, points at the active node: the
            // request goes there as it is, token included, as Vault's own client does (a write may
            // have been carried out through the failed forwarding: its answer then says so)
            URI next;
            try {
                next = at.resolve(answer.location());
            } catch (IllegalArgumentException bad) {
                break;
            }
            if (!next.getRawPath().startsWith("/v1/") || next.getHost() == null) break;
            if ("https".equalsIgnoreCase(at.getScheme()) && !"https".equalsIgnoreCase(next.getScheme())) {
                throw new VaultAccessException(op, address, path, answer.status(), "redirected from https to "
                        + origin(next) + ", which would send the token in clear; fix the api_addr of Vault's nodes", false, null);
            }
            sent = next.getRawPath().substring("/v1/".length()) + (next.getRawQuery() == null ? "" : "?" + next.getRawQuery());
            at = next;
            via = origin(next).equals(origin(settings.address())) ? http : redirected.computeIfAbsent(origin(next), o -> client(URI.create(o), java.util.Optional.empty()));
        }
        int status = answer.status();
        if (redirect(status)) {
            throw new VaultAccessException(op, address, path, status, (answer.location() == null
                    ? "redirected without a Location" : "redirected " + (MAX_REDIRECTS + 1) + " times, last to "
                    + Transport.firstLine(answer.location())) + " (a standby while the cluster has no active node?)",
                    true, !write, write, null);
        }
        boolean forwarded = write && hop > 0;
        JsonNode parsed = parse(answer.body());
        if (status == 200 || status == 204) {
            return new Reply(status, parsed, forwarded);
        }
        if (status == 404 || status == 400 || status == 403 || status == 401) {
            // Callers decide what these mean (absent, CAS conflict, denied).
            return new Reply(status, parsed, forwarded);
        }
        String errors = errors(parsed);
        throw new VaultAccessException(op, address, path, status, scrub(errors, hide),
                retryableStatus(status), false, forwarded || mayHaveApplied(status, errors), null);
    }

    private static boolean redirect(int status) {
        return status == 307 || status == 308;
    }

    private static String origin(URI u) {
        String scheme = u.getScheme() == null ? "http" : u.getScheme().toLowerCase(java.util.Locale.ROOT);
        int port = u.getPort() > 0 ? u.getPort() : "https".equals(scheme) ? 443 : 80;
        return scheme + "://" + u.getHost() + ":" + port;
    }

    @Override
    public void close() {
        http.close();
        redirected.values().forEach(VaultHttp::close);
    }

    VaultAccessException failure(String op, String path, Reply reply, Collection<String> hide) {
        String errors = errors(reply.body());
        return new VaultAccessException(op, address, path, reply.status(), scrub(errors, hide),
                retryableStatus(reply.status()), false, reply.forwarded() || mayHaveApplied(reply.status(), errors), null);
    }

    /**
     * Whether a request answered with this error may still have been carried out. A raft leader
     * that loses its leadership while committing answers 500 ("leadership lost while committing
     * log") and the entry may yet be committed by the next leader; a standby whose forwarding to
     * the leader broke, or a proxy in front (502, 504), cannot tell either. Only answers given
     * before anything was applied are sure: sealed or no active node (503, and a standby's 500
     * "local node not active but active cluster node not found"), not implemented (501).
     */
    static boolean mayHaveApplied(int status, String errors) {
        if (status < 500 || status == 501 || status == 503) return false;
        return !errors.contains("local node not active but active cluster node not found") && !errors.contains("Vault is sealed");
    }

    /** Why a request got no HTTP answer, whether it may have reached Vault, and whether trying again may help. */
    private record Failure(String why, boolean retryable, boolean neverSent, boolean answerLost) {}

    private Failure describe(IOException e, Collection<String> hide) {
        if (e instanceof VaultHttp.Busy) {
            return new Failure(e.getMessage() + " (vault.max_connections)", true, true, false);
        }
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
        String text = e.getMessage() == null ? "" : e.getMessage().toLowerCase(java.util.Locale.ROOT);
        if (text.contains("reset")) {
            return new Failure("connection reset before Vault answered", true, false, true);
        }
        if (e instanceof java.io.EOFException || text.contains("closed") || text.contains("eof")) {
            return new Failure("connection closed before Vault answered", true, false, true);
        }
        String detail = scrub(firstLine(e.getMessage()), hide);
        return new Failure("connection failed: " + (detail.isEmpty() ? e.getClass().getSimpleName() : detail),
                true, false, true);
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

    static String firstLine(String s) {
        if (s == null) return "";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
