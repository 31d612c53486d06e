package io.keyward.rotation;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One audit record: what happened ({@code event}, like "vault.read" or "rotation.promoted"),
 * to which path and version, with what outcome and how long it took. Values appear only as
 * HMAC fingerprints; tokens only as accessors. Extra {@code attributes} are plain text.
 */
public record AuditEvent(
        String event,
        String path,
        Integer version,
        Outcome outcome,
        Duration duration,
        String fingerprint,
        Map<String, String> attributes) {

    /**
     * How an audited step ended. {@code UNKNOWN}: the request left but no answer came (a timeout
     * or a reset), so whether it was carried out is told by a later line. {@code PENDING}: written
     * before the step it names runs; what became of it follows.
     */
    public enum Outcome {
        OK, NOT_FOUND, CONFLICT, DENIED, FAILED, UNKNOWN, PENDING;

        public String word() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public AuditEvent {
        Objects.requireNonNull(event, "event");
        Objects.requireNonNull(outcome, "outcome");
        attributes = Collections.unmodifiableMap(new LinkedHashMap<>(attributes));
    }

    public static Builder of(String event) {
        return new Builder(event);
    }

    /** Builds an event step by step; unset parts stay out of the record. */
    public static final class Builder {
        private final String event;
        private String path;
        private Integer version;
        private Outcome outcome = Outcome.OK;
        private Duration duration;
        private String fingerprint;
        private final Map<String, String> attributes = new LinkedHashMap<>();

        private Builder(String event) {
            this.event = event;
        }

        public Builder path(Object path) {
            this.path = path == null ? null : path.toString();
            return this;
        }

        public Builder version(Integer version) {
            this.version = version;
            return this;
        }

        public Builder outcome(Outcome outcome) {
            this.outcome = outcome;
            return this;
        }

        public Builder duration(Duration duration) {
            this.duration = duration;
            return this;
        }

        public Builder fingerprint(String fingerprint) {
            this.fingerprint = fingerprint;
            return this;
        }

        public Builder attribute(String key, Object value) {
            if (value != null) attributes.put(key, value.toString());
            return this;
        }

        public AuditEvent build() {
            return new AuditEvent(event, path, version, outcome, duration, fingerprint, attributes);
        }
    }
}
