package io.keyward.docbits;

import io.keyward.policy.Policy;
import io.keyward.rotation.KeySource;
import io.keyward.rotation.Plugins;
import io.keyward.rotation.SecretPath;
import io.keyward.rotation.SecretStore;
import java.io.IOException;
import java.net.http.HttpClient;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import tools.jackson.databind.JsonNode;

/** Builds DocBits issuers and verifiers from the policy; one shared HTTP client serves them all. */
public final class DocBits {

    private final HttpClient http;

    public DocBits(HttpClient http) {
        this.http = http;
    }

    public static HttpClient defaultHttpClient() {
        return HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    }

    /** A client making one HTTP call per request; the policy's retrier repeats what may pass. */
    public DocBitsClient client(java.net.URI base, Duration timeout) {
        return new DocBitsClient(base, http, timeout);
    }

    /**
     * Where a DocBits key comes from: in API mode keyward creates and revokes it through the
     * configured endpoints; in manual mode a person does both in DocBits' settings.
     */
    public KeySource source(Policy.IssuerSpec.DocBits spec, SecretStore store) {
        DocBitsClient client = client(spec.baseUrl(), spec.timeout());
        return spec.mode() == Policy.DocBitsMode.API ? new KeySource.Issued(new ApiIssuer(spec, client, store))
                : new KeySource.Manual(new ManualKeys(spec, client, store));
    }

    /** An issuer in API mode (creates and revokes through the configured endpoints). */
    public Plugins.Issuer issuer(Policy.IssuerSpec.DocBits spec, SecretStore store) {
        if (spec.mode() != Policy.DocBitsMode.API) {
            throw new IllegalArgumentException("issuer " + spec.name() + " is in manual mode: a person makes its keys");
        }
        return new ApiIssuer(spec, client(spec.baseUrl(), spec.timeout()), store);
    }

    /** The new key must pass the probe for every organisation. */
    public Plugins.Verifier verifier(Policy.VerifySpec.DocBits spec, String field) {
        DocBitsClient client = client(spec.baseUrl(), spec.timeout());
        return (secretId, value) -> {
            String key = value.string(field).orElseThrow(() -> new Plugins.Rejected("field " + field + " is empty"));
            for (String org : spec.orgs()) client.probe(key, org);
        };
    }

    /** A manual issuer's own check of a new key: DocBits must take it for the issuer's organisation. */
    public static Plugins.Verifier issuerAccepts(KeySource.Manual source, String field) {
        return (secretId, value) -> {
            String key = value.string(field).orElseThrow(() -> new Plugins.Rejected("field " + field + " is empty"));
            if (source.keys().refuses(secretId, key)) {
                throw new Plugins.Rejected("DocBits refuses the new key of " + secretId
                        + " (was it copied whole, right after Regenerate?)");
            }
        };
    }

    /** Tries a live key against the issuer's organisation: accepted, refused (401), or no answer. */
    public java.util.function.Function<String, LiveKey.Probe> liveKeyProbe(Policy.IssuerSpec.DocBits spec) {
        DocBitsClient client = client(spec.baseUrl(), spec.timeout());
        return key -> {
            try {
                client.probe(key, spec.org());
                return LiveKey.Probe.ACCEPTED;
            } catch (DocBitsClient.KeyRefused refused) {
                return LiveKey.Probe.REFUSED;
            } catch (IOException e) {
                return LiveKey.Probe.NO_ANSWER;
            }
        };
    }

    /** DocBits as a consumer: the value is sent to an operator-configured endpoint with DocBits' headers. */
    public Plugins.Target target(Policy.TargetSpec.DocBits spec, String field, SecretStore store) {
        DocBitsClient client = client(spec.baseUrl(), spec.timeout());
        return new Plugins.Target() {
            @Override
            public String id() {
                return spec.id();
            }

            @Override
            public void deliver(String secretId, int version, io.keyward.rotation.SecretData value) throws IOException {
                String key = value.string(field).filter(v -> !v.isEmpty()).orElseThrow(() -> new Plugins.Rejected(
                        "field '" + field + "' of " + secretId + " v" + version + " is empty or missing: not sent to DocBits"));
                Policy.Endpoint e = spec.endpoint();
                client.call(e.method(), fill(e.path(), "", secretId, null), authKey(store, spec.auth(), "target " + spec.id()),
                        spec.org(), fill(e.body() == null ? "{\"value\": \"{key}\"}" : e.body(), secretId + ":" + version,
                                secretId, key));
            }

            @Override
            public String address() {
                return "docbits " + spec.baseUrl() + spec.endpoint().path() + " org " + spec.org();
            }

            @Override
            public String toString() {
                return "DocBitsTarget[" + spec.id() + " " + spec.baseUrl() + spec.endpoint().path() + "]";
            }
        };
    }

    /** Reads the DocBits key that authorises keyward's own calls. */
    static String authKey(SecretStore store, Policy.VaultField f, String who) throws IOException {
        SecretPath path = SecretPath.of(f.mount(), f.path());
        return store.text(path, f.field()).orElseThrow(() -> new IOException(who + ": no key in field " + f.field() + " of " + path
                        + " to call DocBits with"));
    }

    /** What both modes share: the usage check that keeps a still-used key alive, and the 401 check. */
    private abstract static class Base implements Plugins.Usage {
        final Policy.IssuerSpec.DocBits spec;
        final DocBitsClient client;
        final SecretStore store;

        Base(Policy.IssuerSpec.DocBits spec, DocBitsClient client, SecretStore store) {
            this.spec = spec;
            this.client = client;
            this.store = store;
        }

        String authKey() throws IOException {
            return DocBits.authKey(store, spec.auth().orElseThrow(), "issuer " + spec.name());
        }

        @Override
        public Optional<Instant> lastUsed(String secretId, String value) throws IOException {
            if (spec.usage().isEmpty()) return Optional.empty();
            Policy.Usage u = spec.usage().get();
            JsonNode data = client.call(u.endpoint().method(), fillPath(u.endpoint().path(), secretId, value), authKey(),
                    spec.org(), null);
            JsonNode at = data.at(u.pointer());
            if (at.isMissingNode() || at.isNull() || at.asString("").isBlank()) return Optional.empty();
            try {
                return Optional.of(Instant.parse(at.asString()));
            } catch (java.time.format.DateTimeParseException e) {
                throw new IOException("issuer " + spec.name() + ": the usage answer at " + u.pointer()
                        + " is not an ISO-8601 time");
            }
        }

        @Override
        public Duration quiet() {
            return spec.usage().map(Policy.Usage::quiet).orElse(Duration.ZERO);
        }

    }

    private static final class ApiIssuer extends Base implements Plugins.Issuer {
        ApiIssuer(Policy.IssuerSpec.DocBits spec, DocBitsClient client, SecretStore store) {
            super(spec, client, store);
        }

        @Override
        public String issue(String secretId, String requestId) throws IOException {
            Policy.Endpoint create = spec.create().orElseThrow();
            String body = fill(create.body(), requestId, secretId, null);
            JsonNode data = client.call(create.method(), create.path(), authKey(), spec.org(), body == null ? "{}" : body);
            String key = data.at(spec.keyPointer()).asString("");
            if (key.isBlank()) {
                throw new Plugins.Rejected("DocBits create answer has no key at " + spec.keyPointer()
                        + " (issuer " + spec.name() + "; check key_pointer)");
            }
            return key;
        }

        @Override
        public void revoke(String secretId, String value) throws IOException {
            Policy.Endpoint revoke = spec.revoke().orElseThrow();
            String body = fill(revoke.body(), "", secretId, value);
            client.call(revoke.method(), fillPath(revoke.path(), secretId, value), authKey(), spec.org(), body);
        }

        @Override
        public String toString() {
            return "DocBitsApiIssuer[" + spec.name() + " " + spec.baseUrl() + "]";
        }
    }

    private static final class ManualKeys extends Base implements Plugins.ManualKeys {
        ManualKeys(Policy.IssuerSpec.DocBits spec, DocBitsClient client, SecretStore store) {
            super(spec, client, store);
        }

        @Override
        public Duration notice() {
            return spec.notice();
        }

        @Override
        public boolean refuses(String secretId, String value) throws IOException {
            try {
                client.probe(value, spec.org());
                return false;
            } catch (DocBitsClient.KeyRefused refused) {
                return true;
            }
        }

        @Override
        public boolean singleKey() {
            return spec.singleKey();
        }

        @Override
        public String toString() {
            return "DocBitsManualKeys[" + spec.name() + " " + spec.baseUrl() + "]";
        }
    }

    /** A path with {secret_id} and {key_prefix} (the first 8 characters, which DocBits' settings show). */
    static String fillPath(String path, String secretId, String key) {
        String prefix = key == null ? "" : key.substring(0, Math.min(8, key.length()));
        return path.replace("{secret_id}", java.net.URLEncoder.encode(secretId, java.nio.charset.StandardCharsets.UTF_8))
                .replace("{key_prefix}", java.net.URLEncoder.encode(prefix, java.nio.charset.StandardCharsets.UTF_8));
    }

    /** Fills {request_id}, {secret_id} and {key} into a JSON template, escaped as JSON string content. */
    static String fill(String template, String requestId, String secretId, String key) {
        if (template == null) return null;
        String out = template.replace("{request_id}", escape(requestId)).replace("{secret_id}", escape(secretId));
        if (key == null) return out;
        return out.replace("{key}", escape(key)).replace("{key_prefix}", escape(key.substring(0, Math.min(8, key.length()))));
    }

    private static String escape(String s) {
        StringBuilder b = new StringBuilder();
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
                    else b.append(c);
                }
            }
        }
        return b.toString();
    }
}
