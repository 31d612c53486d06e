package io.keyward.rotation;

import java.util.Map;
import java.util.Optional;

/**
 * What proves that one of this agent's targets holds a version, and when a ledger entry is not
 * this agent's record of this Vault: pure functions of plain values. A target that can be read back
 * proves it by its content; one that cannot (a webhook, a reload command, DocBits), or whose
 * consumer must have done more than hold it (reloaded, passed a health check), needs this agent's
 * record of delivering exactly this version and value to exactly this address.
 */
final class Evidence {

    private Evidence() {}

    /**
     * Whether a target holds {@code version} (whose value has {@code fingerprint}): {@code readBack}
     * is what reading the target answered (empty: it cannot be read back), {@code readBackSuffices}
     * the target's {@link Plugins.Target#readBackSuffices()}, {@code recorded} the ledger's delivery
     * to it (or null) and {@code address} where it delivers now.
     */
    static boolean holds(Optional<Boolean> readBack, boolean readBackSuffices, Ledger.Delivery recorded, int version,
                         String fingerprint, String address) {
        if (readBack.isPresent() && !readBack.get()) return false;
        if (readBack.isPresent() && readBackSuffices) return true;
        return recorded != null && recorded.version() == version && fingerprint.equals(recorded.fingerprint())
                && address.equals(recorded.address());
    }

    /**
     * Why a ledger entry is not this agent's record of the secret as Vault holds it (it is then
     * discarded and every target checked and written again), or empty when it may be: it names
     * another Vault ({@code vault}: this one's installation id), or a delivery of a version Vault
     * does not have with that value. {@code vaultHas} gives Vault's value fingerprint at the live
     * version ({@code liveVersion}) and at every version above it that the entry names (absent:
     * Vault has no such version); a version above the live one that Vault has with the recorded
     * value means the live read was behind (a standby), not that the ledger is ahead.
     */
    static Optional<String> foreign(Ledger.Entry e, String vault, int liveVersion, Map<Integer, String> vaultHas) {
        if (e.empty()) return Optional.empty();
        if (e.vault() == null) return Optional.of("it names no Vault it was written against");
        if (!e.vault().equals(vault)) {
            return Optional.of("it was written against another Vault (installation " + e.vault() + "; this one is " + vault
                    + "): a Vault rebuilt or replaced, or a state folder from another installation");
        }
        for (Map.Entry<String, Ledger.Delivery> d : e.targets().entrySet()) {
            int v = d.getValue().version();
            if (v < liveVersion) continue;
            String there = vaultHas.get(v);
            if (there == null) {
                return Optional.of("it shows v" + v + " delivered to target " + d.getKey() + ", ahead of Vault's v" + liveVersion
                        + ": Vault restored to an older state, or the secret deleted and made again");
            }
            if (!there.equals(d.getValue().fingerprint())) {
                return Optional.of("it shows v" + v + " delivered to target " + d.getKey() + " with another value than Vault's v"
                        + v + ": Vault restored to an older state, the secret deleted and made again, or a new fingerprint key");
            }
        }
        return Optional.empty();
    }

    /** The versions above {@code liveVersion} that an entry names: what {@link #foreign} must know Vault's values of. */
    static java.util.SortedSet<Integer> above(Ledger.Entry e, int liveVersion) {
        java.util.SortedSet<Integer> out = new java.util.TreeSet<>();
        e.targets().values().forEach(d -> {
            if (d.version() > liveVersion) out.add(d.version());
        });
        return out;
    }
}
