package io.keyward.rotation;

import java.io.Closeable;
import java.io.IOException;
import java.util.Optional;

/**
 * Puts a version on one of this agent's targets and says what the target then holds, with
 * evidence: the one delivery routine of rotations, watches, repairs and the render at start.
 * Under this agent's lock for the secret it leaves alone a target that holds the version already
 * ({@link Evidence}: read back, or this agent's record of delivering exactly that value there),
 * never writes an older version over a newer one this agent delivered and Vault still has, and
 * reads a written target back before it counts. The ledger only ever records what was put.
 */
final class Handover {

    /** What a target holds after a handover: {@code version} (the one asked for, or a newer one), and whether it was written now. */
    record Held(int version, boolean written) {}

    private final Core core;

    Handover(Core core) {
        this.core = core;
    }

    /**
     * Makes {@code t} hold {@code version} (or a newer version this agent delivered there, which
     * Vault still has with the same value). {@code force} writes it whatever the target holds, and
     * even if it is older (a rollback, {@code sync --force}). A failing write throws, after the
     * retries {@code retrier} allows.
     */
    Held put(SecretBinding b, Plugins.Target t, int version, SecretData value, Retrier retrier, boolean force)
            throws IOException {
        String vault = core.installation().id();
        try (Closeable held = core.ledger().lock(b.id())) {
            Ledger.Entry entry = entry(b).in(vault);
            Ledger.Delivery recorded = entry.targets().get(t.id());
            int v = version;
            SecretData x = value;
            if (!force && recorded != null && recorded.version() > version) {
                Optional<SecretData> newer = core.liveAt(b, recorded.version())
                        .filter(d -> core.fingerprints().of(d).equals(recorded.fingerprint()));
                if (newer.isPresent()) { // never backwards: the newer one is what goes there
                    v = recorded.version();
                    x = newer.get();
                }
            }
            String fingerprint = core.fingerprints().of(x);
            if (!force && Evidence.holds(readBack(b, t, v, x), t.readBackSuffices(), recorded, v, fingerprint, t.address())) {
                record(b, entry, t, v, fingerprint);
                return new Held(v, false);
            }
            int writing = v;
            SecretData writingValue = x;
            retrier.run(() -> {
                t.deliver(b.id(), writing, writingValue);
                Optional<Boolean> back = readBack(b, t, writing, writingValue);
                if (back.isPresent() && !back.get()) {
                    throw new IOException("target " + t.id() + " was written with v" + writing
                            + " but does not read back as written (another writer, or a write that did not last)");
                }
            }, Core::retryable);
            record(b, entry, t, v, fingerprint);
            return new Held(v, true);
        }
    }

    /** Notes in the ledger that {@code t} was given {@code version} back by {@link Plugins.Target#restore} (a rollback). */
    void restored(SecretBinding b, Plugins.Target t, int version, SecretData value) throws IOException {
        String vault = core.installation().id();
        try (Closeable held = core.ledger().lock(b.id())) {
            record(b, entry(b).in(vault), t, version, core.fingerprints().of(value));
        }
    }

    /** What reading the target back says; a target that cannot be read (an I/O error) does not hold it. */
    private static Optional<Boolean> readBack(SecretBinding b, Plugins.Target t, int version, SecretData value) {
        try {
            return t.holds(b.id(), version, value);
        } catch (IOException unreadable) {
            return Optional.of(false);
        }
    }

    /** Notes the delivery in the ledger unless it shows it already. */
    private void record(SecretBinding b, Ledger.Entry entry, Plugins.Target t, int version, String fingerprint)
            throws IOException {
        Ledger.Delivery d = new Ledger.Delivery(version, fingerprint, t.address());
        if (d.equals(entry.targets().get(t.id()))) return;
        try {
            // read again under the lock: a delivery of another target recorded meanwhile by this process stays
            core.ledger().put(b.id(), entry(b).in(entry.vault()).with(t.id(), d));
        } catch (IOException failure) {
            throw new LedgerUnwritable("target " + t.id() + " holds v" + version + ", but the local ledger could not be"
                    + " written: " + failure.getMessage());
        }
    }

    private Ledger.Entry entry(SecretBinding b) throws StoreException {
        try {
            return core.ledger().get(b.id());
        } catch (IOException failure) {
            throw new StoreException("cannot read the local ledger of " + b.id() + ": " + failure.getMessage(), failure);
        }
    }

    /** The target holds the version, but the ledger could not say so (never retried: the disk is the problem). */
    static final class LedgerUnwritable extends Plugins.Rejected {
        LedgerUnwritable(String message) {
            super(message);
        }
    }
}
