package io.keyward.target;

import io.keyward.policy.Policy;
import io.keyward.rotation.Fingerprinter;
import io.keyward.rotation.Plugins;
import io.keyward.rotation.SecretData;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import tools.jackson.databind.json.JsonMapper;

/**
 * POSTs {@code {"secret_id", "version", "fingerprint", "target"}} (and {@code "fields"} only where
 * the policy sets include_value) to a URL, signed, with {@code Idempotency-Key: ID:VERSION} so a
 * receiver can ignore a repeat.
 */
final class WebhookTarget implements Plugins.Target {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final Policy.TargetSpec.Webhook spec;
    private final SignedPost post;
    private final Fingerprinter fingerprints;

    WebhookTarget(Policy.TargetSpec.Webhook spec, SignedPost post, Fingerprinter fingerprints) {
        this.spec = spec;
        this.post = post;
        this.fingerprints = fingerprints;
    }

    @Override
    public String id() {
        return spec.id();
    }

    @Override
    public void deliver(String secretId, int version, SecretData value) throws IOException {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("secret_id", secretId);
        body.put("version", version);
        body.put("fingerprint", fingerprints.of(value));
        body.put("target", spec.id());
        if (spec.includeValue()) body.put("fields", value.fields());
        post.post("webhook target " + spec.id(), spec.url(), spec.signingKey(), JSON.writeValueAsString(body),
                secretId + ":" + version, spec.timeout());
    }

    @Override
    public String address() {
        return "webhook " + spec.url();
    }

    @Override
    public String toString() {
        return "WebhookTarget[" + spec.id() + " -> " + spec.url() + "]";
    }
}
