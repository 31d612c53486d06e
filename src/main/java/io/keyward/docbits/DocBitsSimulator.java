package io.keyward.docbits;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A stand-in for DocBits that does what its documentation says: several keys per organisation
 * (only their SHA-256 is kept), {@code X-API-KEY} and {@code X-ORG-ID} checks, the envelope,
 * {@code GET /version} without a key, the document-type probe, 401 for unknown or revoked keys. It
 * also offers key endpoints ({@code POST /api_keys} honouring {@code Idempotency-Key},
 * {@code POST /api_keys/revoke}, {@code GET /api_keys/usage?prefix=} answering when a key was last
 * used), a consumer endpoint ({@code PUT /integrations/NAME} with {@code api_key} or {@code value}),
 * a record of which key each request used, and switches for latency, 429 and 5xx. Runnable on its
 * own: {@code keyward docbits-simulator --key-file F} (a hidden command, for demos).
 */
public final class DocBitsSimulator implements AutoCloseable {

    /** One request as seen: when, what, which key (by fingerprint, never the key) and the answer. */
    public record Request(Instant at, String method, String path, String keyHash, String org, int status) {}

    private record Key(String id, String name, String hash, String prefix, Set<String> orgs, boolean active,
                       Instant created, Instant lastUsed) {}

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private final HttpServer server;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();
    private final Map<String, Key> keys = new ConcurrentHashMap<>();
    private final Map<String, Map<String, Object>> idempotent = new ConcurrentHashMap<>();
    private final Map<String, String> integrations = new ConcurrentHashMap<>();
    private final List<Request> requests = Collections.synchronizedList(new ArrayList<>());
    private final AtomicInteger fail429 = new AtomicInteger();
    private final AtomicInteger calls = new AtomicInteger();
    private final AtomicInteger fail5xx = new AtomicInteger();
    private volatile long latencyMillis;

    private DocBitsSimulator(HttpServer server, Clock clock) {
        this.server = server;
        this.clock = clock;
    }

    /** Starts on 127.0.0.1 and the given port (0: any free one). */
    public static DocBitsSimulator start(int port, Clock clock) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 64);
        DocBitsSimulator sim = new DocBitsSimulator(server, clock);
        server.createContext("/", sim::handle);
        server.setExecutor(Executors.newFixedThreadPool(8, r -> {
            Thread t = new Thread(r, "docbits-simulator");
            t.setDaemon(true);
            return t;
        }));
        server.start();
        return sim;
    }

    public URI baseUrl() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    /** Creates a key as an operator would in the web settings; returns the key (shown once). */
    public String createKey(String name, Set<String> orgs) {
        return (String) create(name, orgs).get("key");
    }

    /** Revokes a key for good, as in the web settings. */
    public boolean revoke(String key) {
        String hash = hash(key);
        for (Key k : keys.values()) {
            if (k.hash().equals(hash) && k.active()) {
                keys.put(k.id(), new Key(k.id(), k.name(), k.hash(), k.prefix(), k.orgs(), false, k.created(), k.lastUsed()));
                return true;
            }
        }
        return false;
    }

    public boolean accepts(String key, String org) {
        Key k = find(key);
        return k != null && k.active() && k.orgs().contains(org);
    }

    /** How many keys are active now. */
    public long activeKeys() {
        return keys.values().stream().filter(Key::active).count();
    }

    public List<Request> requests() {
        synchronized (requests) {
            return List.copyOf(requests);
        }
    }

    /** The fingerprint the simulator records for a key: the first 12 hex digits of its SHA-256. */
    public static String keyHash(String key) {
        return hash(key).substring(0, 12);
    }

    /**
     * The Regenerate button of an account with one key: the key stops working at once and a new
     * one with the same name and organisations takes its place (returned, as the settings page
     * shows it once). Empty when the key is unknown or revoked already.
     */
    public Optional<String> regenerate(String key) {
        Key old = find(key);
        if (old == null || !old.active()) return Optional.empty();
        revoke(key);
        return Optional.of(createKey(old.name(), old.orgs()));
    }

    /** What a consumer integration was last given through the consumer endpoint. */
    public Optional<String> integrationKey(String integration) {
        return Optional.ofNullable(integrations.get(integration));
    }

    /** How many API calls arrived (not counting the simulator's own /_sim endpoints), answered or not. */
    public int calls() {
        return calls.get();
    }

    public void failNext429(int n) {
        fail429.set(n);
    }

    public void failNext5xx(int n) {
        fail5xx.set(n);
    }

    public void latency(long millis) {
        latencyMillis = millis;
    }

    @Override
    public void close() {
        server.stop(0);
        ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
    }

    private Map<String, Object> create(String name, Set<String> orgs) {
        byte[] raw = new byte[24];
        random.nextBytes(raw);
        String key = "dbk_" + HexFormat.of().formatHex(raw);
        String id = "key_" + (keys.size() + 1) + "_" + HexFormat.of().formatHex(raw, 0, 3);
        keys.put(id, new Key(id, name, hash(key), key.substring(0, 8), Set.copyOf(orgs), true, clock.instant(), null));
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("id", id);
        data.put("name", name);
        data.put("key", key);
        data.put("prefix", key.substring(0, 8));
        return data;
    }

    private void handle(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        String method = ex.getRequestMethod();
        String apiKey = ex.getRequestHeaders().getFirst("X-API-KEY");
        String org = ex.getRequestHeaders().getFirst("X-ORG-ID");
        byte[] body = ex.getRequestBody().readAllBytes();
        try {
            if (latencyMillis > 0) Thread.sleep(latencyMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        int status;
        Map<String, Object> answer;
        if (!path.startsWith("/_sim")) calls.incrementAndGet();
        if (!path.startsWith("/_sim") && fail429.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            ex.getResponseHeaders().add("Retry-After", "1");
            status = 429;
            answer = fail("Too many requests");
        } else if (!path.startsWith("/_sim") && fail5xx.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            status = 503;
            answer = fail("Service unavailable");
        } else if (method.equals("GET") && path.equals("/version")) {
            status = 200;
            answer = ok("data", Map.of("version", "simulator-1"));
        } else if (method.equals("POST") && path.equals("/_sim/regenerate")) {
            // The settings page's Regenerate button, for scripts (the demo): X-API-KEY names the key to replace.
            Optional<String> fresh = apiKey == null ? Optional.empty() : regenerate(apiKey);
            status = fresh.isPresent() ? 200 : 401;
            answer = fresh.isPresent() ? ok("data", Map.of("key", fresh.get())) : fail("Invalid API key");
        } else if (method.equals("GET") && path.equals("/openapi.json")) {
            status = 200;
            answer = Map.of("openapi", "3.1.0", "info", Map.of("title", "DocBits simulator", "version", "1"));
        } else {
            Key key = apiKey == null ? null : find(apiKey);
            if (key == null || !key.active()) {
                status = 401;
                answer = fail("Invalid API key");
            } else {
                touch(key);
                Object[] r = route(method, path, ex.getRequestURI().getQuery(), key, org, body);
                status = (Integer) r[0];
                @SuppressWarnings("unchecked")
                Map<String, Object> a = (Map<String, Object>) r[1];
                answer = a;
            }
        }
        requests.add(new Request(clock.instant(), method, path, apiKey == null ? null : keyHash(apiKey), org, status));
        byte[] out = JSON.writeValueAsBytes(answer);
        ex.getResponseHeaders().add("Content-Type", "application/json");
        ex.sendResponseHeaders(status, out.length);
        try (OutputStream os = ex.getResponseBody()) {
            os.write(out);
        }
    }

    private Object[] route(String method, String path, String query, Key key, String org, byte[] body) {
        JsonNode json;
        try {
            json = body.length == 0 ? JSON.createObjectNode() : JSON.readTree(body);
        } catch (RuntimeException e) {
            return new Object[] {422, fail("Malformed body")};
        }
        if (method.equals("GET") && path.equals("/document_type/get_document_types")) {
            if (org == null || !key.orgs().contains(org)) return new Object[] {403, fail("Organisation not accessible")};
            return new Object[] {200, ok("data", List.of(Map.of("id", 1, "name", "invoice")))};
        }
        if (method.equals("POST") && path.equals("/api_keys")) {
            if (org == null || !key.orgs().contains(org)) return new Object[] {403, fail("Organisation not accessible")};
            String name = json.path("name").asString("");
            if (name.isBlank()) return new Object[] {422, fail("name is required")};
            String idem = json.path("idempotency_key").asString(name);
            Map<String, Object> data = idempotent.computeIfAbsent(org + "/" + idem, k -> create(name, Set.of(org)));
            return new Object[] {200, ok("data", data)};
        }
        if (method.equals("GET") && path.equals("/api_keys/usage")) {
            String prefix = query == null || !query.startsWith("prefix=") ? "" : query.substring("prefix=".length());
            if (prefix.isBlank()) return new Object[] {422, fail("prefix is required")};
            Instant last = null;
            boolean found = false;
            for (Key k : keys.values()) {
                if (!k.prefix().equals(prefix) || (org != null && !k.orgs().contains(org))) continue;
                found = true;
                if (k.lastUsed() != null && (last == null || k.lastUsed().isAfter(last))) last = k.lastUsed();
            }
            if (!found) return new Object[] {404, fail("No key with that prefix")};
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("prefix", prefix);
            data.put("last_used_at", last == null ? null : last.toString());
            return new Object[] {200, ok("data", data)};
        }
        if (method.equals("POST") && path.equals("/api_keys/revoke")) {
            String target = json.path("key").asString("");
            if (target.isBlank()) return new Object[] {422, fail("key is required")};
            revoke(target);
            return new Object[] {200, ok("message", "revoked")};
        }
        if (method.equals("PUT") && path.startsWith("/integrations/")) {
            String name = path.substring("/integrations/".length());
            String value = json.path("api_key").asString(json.path("value").asString(""));
            if (value.isBlank()) return new Object[] {422, fail("api_key (or value) is required")};
            integrations.put(name, value);
            return new Object[] {200, ok("message", "updated")};
        }
        return new Object[] {404, fail("Not found")};
    }

    private void touch(Key k) {
        keys.put(k.id(), new Key(k.id(), k.name(), k.hash(), k.prefix(), k.orgs(), k.active(), k.created(), clock.instant()));
    }

    private Key find(String key) {
        String hash = hash(key);
        for (Key k : keys.values()) if (k.hash().equals(hash)) return k;
        return null;
    }

    private static Map<String, Object> ok(String field, Object value) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("success", true);
        m.put(field, value);
        return m;
    }

    private static Map<String, Object> fail(String message) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("success", false);
        m.put("message", message);
        return m;
    }

    private static String hash(String key) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
