package io.keyward.target;

import io.keyward.policy.Policy;
import io.keyward.rotation.Plugins;
import java.io.IOException;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.json.JsonMapper;

/**
 * Sends each announcement the policy subscribes to as a signed JSON POST; a failed send is logged
 * and never stops a rotation.
 */
final class WebhookNotifier implements Plugins.Notifier {

    private static final Logger LOG = LoggerFactory.getLogger(WebhookNotifier.class);
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final Policy.Notify spec;
    private final SignedPost post;
    private final Clock clock;

    WebhookNotifier(Policy.Notify spec, SignedPost post, Clock clock) {
        this.spec = spec;
        this.post = post;
        this.clock = clock;
    }

    @Override
    public void announce(Plugins.Notice n) {
        if (!spec.events().contains(n.kind())) return;
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("event", n.word());
        body.put("secret_id", n.secretId());
        if (n.rotationId() != null) body.put("rotation_id", n.rotationId());
        if (n.version() > 0) body.put("version", n.version());
        body.put("detail", n.detail());
        body.put("time", clock.instant().toString());
        String id = n.word() + ":" + n.secretId() + ":" + (n.rotationId() == null ? n.version() : n.rotationId());
        try {
            post.post("notification", spec.url(), spec.signingKey(), JSON.writeValueAsString(body), id, spec.timeout());
        } catch (IOException e) {
            LOG.warn("could not send the {} notification for {}: {}", n.word(), n.secretId(), e.getMessage());
        }
    }
}
