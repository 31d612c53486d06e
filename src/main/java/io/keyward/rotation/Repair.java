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
     * Drift: a target that no longer holds what the ledger says was delivered (a file deleted,
     * emptied or edited by hand; a delivery recorded for another address or value) is written
     * again ({@link Handover}), with a {@code target.drift} audit line; the reload targets of the
     * secret then run.
     */
    Optional<Outcome> repair(SecretBinding b, VersionedSecret live) throws StoreException {
        int version = live.version();
        Retrier retrier = core.retrier(b);
        List<Plugins.Target> drifted = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        List<String> repaired = new ArrayList<>();
        for (Plugins.Target t : b.targets()) {
            Handover.Held held;
            try {
                held = new Handover(core).put(b, t, version, live.data(), retrier, false);
            } catch (IOException failure) {
                drifted.add(t);
                failures.add(t.id() + ": " + failure.getMessage());
                continue;
            }
            if (!held.written()) continue;
            drifted.add(t);
            repaired.add(t.id());
            core.audit().record(AuditEvent.of("target.drift").path(b.id()).version(held.version())
                    .fingerprint(core.fingerprints().of(live.data())).attribute("target", t.id())
                    .attribute("detail", "target " + t.id() + " no longer held v" + held.version() + ": written again").build());
        }
        if (drifted.isEmpty()) return Optional.empty();
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
