package io.keyward.docbits;

import io.keyward.rotation.Plugins;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Talks to one DocBits host: the key goes in {@code X-API-KEY} (no Bearer), the organisation in
 * {@code X-ORG-ID}; answers are the {@code success}/{@code data}/{@code message} envelope. 401 and
 * 403 are definite ({@link Plugins.Rejected}); 422 names the malformed body; 429 and 5xx are a
 * {@link DocBitsException} carrying {@code Retry-After}. Each request is one HTTP call: the
 * caller's retrier (the policy's attempts and backoff) repeats it, honouring {@code Retry-After},
 * so a service that asks to slow down gets no more calls than the policy allows. A key never
 * appears in an error.
 */
public final class DocBitsClient {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final URI base;
    private final HttpClient http;
    private final Duration timeout;

    public DocBitsClient(URI base, HttpClient http, Duration timeout) {
        String b = base.toString();
        this.base = URI.create(b.endsWith("/") ? b.substring(0, b.length() - 1) : b);
        this.http = http;
        this.timeout = timeout;
    }

    public URI base() {
        return base;
    }

    /** {@code GET /version}: the liveness probe; needs no key. */
    public String version() throws IOException {
        return call("GET", "/version", null, null, null).path("version").asString("?");
    }

    /** The key probe: {@code GET /document_type/get_document_types} answers success for the organisation. */
    public void probe(String key, String org) throws IOException {
        call("GET", "/document_type/get_document_types", key, org, null);
    }

    /** Any call; returns the envelope's {@code data} (or the whole answer when it has none). */
    public JsonNode call(String method, String path, String key, String org, String body) throws IOException {
        URI uri = URI.create(base + (path.startsWith("/") ? path : "/" + path));
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(timeout).header("Accept", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) b.header("Content-Type", "application/json");
        if (key != null) b.header("X-API-KEY", key);
        if (org != null) b.header("X-ORG-ID", org);
        String where = method + " " + uri + (org == null ? "" : " (organisation " + org + ")");
        HttpResponse<String> r;
        try {
            r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (HttpTimeoutException e) {
            throw new DocBitsException("DocBits " + where + ": no answer within " + timeout.toMillis() + " ms", 0, null);
        } catch (IOException e) {
            throw new DocBitsException("DocBits " + where + ": cannot connect (" + e.getClass().getSimpleName() + ")", 0, null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("DocBits " + where + ": interrupted");
        }
        JsonNode answer;
        try {
            answer = r.body().isBlank() ? JSON.createObjectNode() : JSON.readTree(r.body());
        } catch (JacksonException e) {
            answer = null;
        }
        String message = answer == null ? "" : scrub(answer.path("message").asString(""), key);
        int s = r.statusCode();
        if (s == 401) throw new KeyRefused("DocBits " + where + " did not accept the key (401" + text(message) + ")");
        if (s == 403) throw new Plugins.Rejected("DocBits " + where + " refused the organisation (403" + text(message) + ")");
        if (s == 422) throw new Plugins.Rejected("DocBits " + where + " called the request malformed (422" + text(message) + ")");
        if (s == 429) {
            throw new DocBitsException("DocBits " + where + " asks to slow down (429)", s, retryAfter(r));
        }
        if (s >= 500) throw new DocBitsException("DocBits " + where + " failed (" + s + text(message) + ")", s, retryAfter(r));
        if (s / 100 != 2) throw new IOException("DocBits " + where + " answered " + s + text(message));
        if (answer == null) throw new IOException("DocBits " + where + " answered " + s + " with a body that is not JSON");
        if (answer.has("success") && !answer.path("success").asBoolean(false)) {
            throw new IOException("DocBits " + where + " answered success=false" + text(message));
        }
        return answer.has("data") ? answer.path("data") : answer;
    }

    private static Duration retryAfter(HttpResponse<?> r) {
        return r.headers().firstValue("Retry-After").flatMap(v -> {
            try {
                return java.util.Optional.of(Duration.ofSeconds(Long.parseLong(v.strip())));
            } catch (NumberFormatException e) {
                return java.util.Optional.empty();
            }
        }).orElse(null);
    }

    private static String text(String message) {
        return message.isBlank() ? "" : ": " + message;
    }

    private static String scrub(String s, String key) {
        String out = key != null && key.length() >= 4 ? s.replace(key, "[hidden]") : s;
        return out.length() > 300 ? out.substring(0, 300) : out;
    }

    @Override
    public String toString() {
        return "DocBitsClient[" + base + "]";
    }

    /** DocBits answered 401: the key is unknown or revoked. */
    public static final class KeyRefused extends Plugins.Rejected {
        KeyRefused(String message) {
            super(message);
        }
    }
}
