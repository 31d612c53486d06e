package io.keyward.rotation;

import java.io.IOException;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What this agent delivered to its own targets, kept where the agent lives (its state folder):
 * per secret, the version each target last received and the rotation whose acknowledgement this
 * agent has settled. A host's deliveries are its own fact, never a mark shared in Vault.
 */
public interface Ledger {

    /** What this agent delivered of one secret. */
    record Entry(Map<String, Delivery> targets, String settled) {
        public static final Entry EMPTY = new Entry(Map.of(), null);

        public Entry {
            targets = Map.copyOf(targets);
        }

        /** The version a target last received, or 0. */
        public int version(String target) {
            Delivery d = targets.get(target);
            return d == null ? 0 : d.version();
        }

        Entry with(String target, Delivery d) {
            Map<String, Delivery> m = new java.util.TreeMap<>(targets);
            m.put(target, d);
            return new Entry(m, settled);
        }

        Entry settled(String rotationId) {
            return new Entry(targets, rotationId);
        }
    }

    /** One delivery: the version and a fingerprint of the value (never the value). */
    record Delivery(int version, String fingerprint) {
        public Delivery {
            Objects.requireNonNull(fingerprint, "fingerprint");
        }
    }

    /** What this agent delivered of the secret; {@link Entry#EMPTY} when nothing. */
    Entry get(String secretId) throws IOException;

    /** Replaces the secret's entry (written so that a crash leaves the old one or the new one). */
    void put(String secretId, Entry entry) throws IOException;

    /** A ledger held in memory: for one-shot tools and tests. */
    static Ledger inMemory() {
        return new Ledger() {
            private final Map<String, Entry> entries = new ConcurrentHashMap<>();

            @Override
            public Entry get(String secretId) {
                return Optional.ofNullable(entries.get(secretId)).orElse(Entry.EMPTY);
            }

            @Override
            public void put(String secretId, Entry entry) {
                entries.put(secretId, entry);
            }
        };
    }
}
