package io.keyward.rotation;

import java.io.Closeable;
import java.io.IOException;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What this agent delivered to its own targets, kept where the agent lives (its state folder):
 * per secret, the version and value fingerprint each target last received, the Vault they came
 * from, and the rotation whose acknowledgement this agent has settled. A host's deliveries are its
 * own fact, never a mark shared in Vault. The ledger is a cache of what was delivered, never the
 * proof that a target holds a version: {@link Evidence} says what is.
 */
public interface Ledger {

    /**
     * What this agent delivered of one secret, against the Vault whose installation id is
     * {@code vault} (null for an entry that names none).
     */
    record Entry(Map<String, Delivery> targets, String settled, String vault) {
        public static final Entry EMPTY = new Entry(Map.of(), null, null);

        public Entry {
            targets = Map.copyOf(targets);
        }

        /** The version a target last received, or 0. */
        public int version(String target) {
            Delivery d = targets.get(target);
            return d == null ? 0 : d.version();
        }

        /** True when the entry records nothing. */
        public boolean empty() {
            return targets.isEmpty() && settled == null;
        }

        /** This entry if it was written against {@code vaultId}, else a fresh one that is. */
        Entry in(String vaultId) {
            return vaultId.equals(vault) ? this : new Entry(Map.of(), null, vaultId);
        }

        Entry with(String target, Delivery d) {
            Map<String, Delivery> m = new java.util.TreeMap<>(targets);
            m.put(target, d);
            return new Entry(m, settled, vault);
        }

        Entry settled(String rotationId) {
            return new Entry(targets, rotationId, vault);
        }
    }

    /**
     * One delivery: the version, a fingerprint of the value (never the value) and the target's
     * address when it was made ({@link Plugins.Target#address()}; null in an entry that has none).
     */
    record Delivery(int version, String fingerprint, String address) {
        public Delivery {
            Objects.requireNonNull(fingerprint, "fingerprint");
        }
    }

    /** What this agent delivered of the secret; {@link Entry#EMPTY} when nothing. */
    Entry get(String secretId) throws IOException;

    /** Replaces the secret's entry (written so that a crash leaves the old one or the new one). */
    void put(String secretId, Entry entry) throws IOException;

    /**
     * Held while this agent decides about one secret's targets and writes them, so that two of its
     * processes on this host (the service and a command beside it) take turns; closing releases it.
     * One thread holds one secret's lock at a time.
     */
    default Closeable lock(String secretId) throws IOException {
        return () -> { };
    }

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
