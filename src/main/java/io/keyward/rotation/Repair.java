package io.keyward.rotation;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Drift repair at each watch: targets changed or removed by hand get the live version again. */
final class Repair {

    private final Core core;
    private final Sync sync;

    Repair(Core core, Sync sync) {
        this.core = core;
        this.sync = sync;
    }

    /**
     * Drift: a target that can be read back (a file) and no longer holds what the ledger says was
     * delivered (deleted, emptied, edited by hand) is written again, with a {@code target.drift}
     * audit line; the reload targets of the secret then run.
     */
    Optional<Outcome> repair(SecretBinding b, VersionedSecret live) throws StoreException {
        int version = live.version();
        List<Plugins.Target> drifted = new ArrayList<>();
        for (Plugins.Target t : b.targets()) {
            boolean holds;
            try {
                holds = t.holds(b.id(), version, live.data()).orElse(true);
            } catch (IOException unreadable) {
                holds = false;
            }
            if (!holds) drifted.add(t);
        }
        if (drifted.isEmpty()) return Optional.empty();
        Retrier retrier = core.retrier(b);
        List<String> failures = new ArrayList<>();
        List<String> repaired = new ArrayList<>();
        for (Plugins.Target t : drifted) {
            try {
                retrier.run(() -> t.deliver(b.id(), version, live.data()), Core::retryable);
                repaired.add(t.id());
                core.audit().record(AuditEvent.of("target.drift").path(b.id()).version(version)
                        .fingerprint(core.fingerprints().of(live.data())).attribute("target", t.id())
                        .attribute("detail", "target " + t.id() + " no longer held v" + version + ": written again").build());
            } catch (IOException failure) {
                failures.add(t.id() + ": " + failure.getMessage());
            }
        }
        if (!repaired.isEmpty()) {
            for (Plugins.Target t : b.targets()) {
                if (!t.reloads() || drifted.contains(t)) continue;
                try {
                    retrier.run(() -> t.deliver(b.id(), version, live.data()), Core::retryable);
                    sync.audit(b, version, live.data(), null, AuditEvent.Outcome.OK, "target " + t.id() + " after a repair");
                } catch (IOException failure) {
                    failures.add(t.id() + ": " + failure.getMessage());
                }
            }
        }
        if (!failures.isEmpty()) return Optional.of(sync.undelivered(b, version, failures, "retried at the next watch"));
        return Optional.of(new Outcome.Repaired(b.id(), version, repaired));
    }

}
