package io.keyward.docbits;

import io.keyward.policy.Policy;
import io.keyward.rotation.Plugins;
import io.keyward.rotation.Retrier;
import io.keyward.rotation.SecretPath;
import io.keyward.rotation.SecretStore;
import io.keyward.rotation.Sleeper;
import io.keyward.rotation.VersionedSecret;
import java.io.IOException;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import tools.jackson.databind.JsonNode;

/** Builds DocBits issuers and verifiers from the policy; one shared HTTP client serves them all. */
public final class DocBits {

    private final HttpClient http;
    private final Sleeper sleeper;

    public DocBits(HttpClient http, Sleeper sleeper) {
        this.http = http;
        this.sleeper = sleeper;
    }

    public static HttpClient defaultHttpClient() {
        return HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    }

    public DocBitsClient client(java.net.URI base, Duration timeout) {
        return new DocBitsClient(base, http, timeout,
                new Retrier(new Retrier.Backoff(4, Duration.ofMillis(500), Duration.ofSeconds(30)), sleeper,
                        () -> ThreadLocalRandom.current().nextDouble()));
    }

    /** API mode: create and revoke through the configured endpoints, authorised by a key read from Vault. */
    public Plugins.Issuer issuer(Policy.IssuerSpec.DocBits spec, SecretStore store) {
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

    private record ApiIssuer(Policy.IssuerSpec.DocBits spec, DocBitsClient client, SecretStore store)
            implements Plugins.Issuer {

        @Override
        public String issue(String secretId, String requestId) throws IOException {
            String body = fill(spec.create().body(), requestId, secretId, null);
            JsonNode data = client.call(spec.create().method(), spec.create().path(), authKey(), spec.org(),
                    body == null ? "{}" : body);
            String key = data.at(spec.keyPointer()).asString("");
            if (key.isBlank()) {
                throw new Plugins.Rejected("DocBits create answer has no key at " + spec.keyPointer()
                        + " (issuer " + spec.name() + "; check key_pointer)");
            }
            return key;
        }

        @Override
        public void revoke(String secretId, String value) throws IOException {
            String body = fill(spec.revoke().body(), "", secretId, value);
            client.call(spec.revoke().method(), fill(spec.revoke().path(), "", secretId, null), authKey(), spec.org(), body);
        }

        private String authKey() throws IOException {
            SecretPath path = SecretPath.of(spec.auth().mount(), spec.auth().path());
            return store.read(path).map(VersionedSecret::data).flatMap(d -> d.string(spec.auth().field()))
                    .orElseThrow(() -> new IOException("issuer " + spec.name() + ": no key in field " + spec.auth().field()
                            + " of " + path + " to call DocBits with"));
        }

        @Override
        public String toString() {
            return "DocBitsApiIssuer[" + spec.name() + " " + spec.baseUrl() + "]";
        }
    }

    /** Fills {request_id}, {secret_id} and {key} into a JSON template, escaped as JSON string content. */
    static String fill(String template, String requestId, String secretId, String key) {
        if (template == null) return null;
        String out = template.replace("{request_id}", escape(requestId)).replace("{secret_id}", escape(secretId));
        return key == null ? out : out.replace("{key}", escape(key));
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
