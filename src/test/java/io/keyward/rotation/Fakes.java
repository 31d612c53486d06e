package io.keyward.rotation;

import io.keyward.testing.Leaks;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/** In-memory issuer and targets for rotation tests: they remember every key and every value they held. */
final class Fakes {

    private Fakes() {}

    /** An issuer that mints keys, keeps the valid ones, and records revocations. */
    static final class Issuer implements Plugins.Issuer {
        final Set<String> valid = Collections.synchronizedSet(new HashSet<>());
        final List<String> revoked = Collections.synchronizedList(new ArrayList<>());
        final Map<String, String> byRequest = Collections.synchronizedMap(new HashMap<>());
        final List<Target> consumers = new ArrayList<>();
        final List<String> violations = Collections.synchronizedList(new ArrayList<>());
        volatile boolean failRevoke;

        @Override
        public String issue(String secretId, String requestId) {
            return byRequest.computeIfAbsent(requestId, r -> {
                String key = Leaks.track("key-" + UUID.randomUUID());
                valid.add(key);
                return key;
            });
        }

        @Override
        public void revoke(String secretId, String value) throws IOException {
            if (failRevoke) throw new IOException("issuer unavailable");
            for (Target t : consumers) {
                if (value.equals(t.holds())) violations.add("revoked a key that target " + t.id() + " still holds");
            }
            if (valid.remove(value)) revoked.add(value);
        }

        boolean accepts(String key) {
            return valid.contains(key);
        }
    }

    /** A target that holds the last value delivered, can be made to fail, and keeps its history. */
    static final class Target implements Plugins.Target {
        private final String id;
        private final String field;
        final List<String> history = Collections.synchronizedList(new ArrayList<>());
        volatile boolean down;

        Target(String id, String field) {
            this.id = id;
            this.field = field;
        }

        @Override
        public String id() {
            return id;
        }

        @Override
        public void deliver(String secretId, int version, SecretData value) throws IOException {
            if (down) throw new IOException("target " + id + " is down");
            String v = value.string(field).orElseThrow();
            if (!v.equals(holds())) history.add(v);
        }

        String holds() {
            return history.isEmpty() ? null : history.get(history.size() - 1);
        }
    }
}
