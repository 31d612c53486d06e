package io.keyward.sim;

import io.keyward.rotation.Decision;
import io.keyward.rotation.JournalEntry;
import io.keyward.rotation.SecretData;
import io.keyward.rotation.Start;
import io.keyward.rotation.VersionGoneException;
import io.keyward.rotation.VersionedSecret;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The invariants, checked after every event against the truth only the simulator can see:
 * <ol>
 * <li>no target of a live member holds a revoked key (a member is live while its membership
 *     record's heartbeat is within the timeout; a member silent when a key was revoked may hold
 *     it until it writes its targets again);</li>
 * <li>every key valid at the issuer that keyward made is in Vault (some version of the live
 *     path, the pending value, a kept old one, or one kept for a person) or is the key of the
 *     rotation in flight, which asks for it again by its request id;</li>
 * <li>at most one rotation of a secret is in flight: no key is minted or accepted while another
 *     rotation's new key is valid and not yet live;</li>
 * <li>a rotation the schedule starts starts inside its window, and not before the backoff that
 *     rolled-back attempts call for;</li>
 * <li>the audit trail is complete and true ({@link AuditTrail}).</li>
 * </ol>
 */
final class Invariants {

    private final World w;
    private final Set<String> exempt = new HashSet<>();

    Invariants(World w) {
        this.w = w;
    }

    void check() {
        for (Simulation.Secret s : w.secrets) {
            scheduledStarts(s);
            for (List<SimParts.Target> ts : s.targets.values()) {
                for (SimParts.Target t : ts) {
                    if (t.holds != null && s.issuer.revoked.contains(t.holds) && !exempt.contains(exemption(t))) {
                        w.violate("target " + t + " of " + s.id + " holds revoked key " + t.holds);
                    }
                }
            }
            if (s.kind == Decision.Source.GENERATED) continue;
            Set<String> stored = w.stored(s);
            Optional<String> flight = w.inFlight(s);
            for (String key : s.issuer.valid) {
                if (s.issuer.operators.contains(key) || stored.contains(key)) continue;
                String request = s.issuer.requestOf.get(key);
                if (request != null && flight.isPresent() && flight.get().equals(request)) continue;
                w.violate("key " + key + " of " + s.id + " is valid at the issuer but neither in Vault nor the rotation in"
                        + " flight's (" + flight.orElse("none in flight") + ")");
            }
        }
    }

    /**
     * A rotation the schedule started (not a forced one) starts inside the window, and not before
     * the backoff that earlier rolled-back attempts call for.
     */
    private void scheduledStarts(Simulation.Secret s) {
        VersionedSecret j;
        try {
            j = w.store.read(Simulation.STATE.child("journal").child(s.id)).orElse(null);
        } catch (VersionGoneException e) {
            return;
        }
        if (j == null) return;
        String id = j.data().string("rotation_id").orElse("");
        if (id.equals(s.lastRotation)) return;
        s.lastRotation = id;
        if (!"schedule".equals(j.data().string("trigger").orElse(""))) return;
        Instant started = Instant.parse(j.data().string("started_at").orElseThrow());
        if (s.policy.schedule().window().isPresent() && !s.policy.schedule().window().get().contains(started)) {
            w.violate("scheduled rotation " + id + " of " + s.id + " started outside its window at " + started);
        }
        List<io.keyward.rotation.JournalEntry.HistoryItem> history = new ArrayList<>();
        if (j.data().fields().get("history") instanceof List<?> l) {
            for (Object o : l) {
                java.util.Map<?, ?> x = (java.util.Map<?, ?>) o;
                if (id.equals(String.valueOf(x.get("rotation_id")))) continue; // this rotation's own end
                history.add(new io.keyward.rotation.JournalEntry.HistoryItem(String.valueOf(x.get("rotation_id")),
                        (String) x.get("trigger"), null, x.get("finished_at") == null ? null
                        : Instant.parse(x.get("finished_at").toString()), String.valueOf(x.get("outcome")), 0, 0, null));
            }
        }
        Optional<Instant> earliest = io.keyward.rotation.Start.nextAttempt(history, s.policy.retryCap(),
                s.policy.schedule().window());
        if (earliest.isPresent() && started.isBefore(earliest.get())) {
            w.violate("scheduled rotation " + id + " of " + s.id + " started at " + started + " after "
                    + io.keyward.rotation.Start.failedAttempts(history) + " failed attempts, before its backoff ended at "
                    + earliest.get());
        }
    }

    /** At a revocation: every target holding the key must belong to members that are all silent. */
    void revoked(Simulation.Secret s, String key) {
        s.targets.forEach((host, ts) -> {
            for (SimParts.Target t : ts) {
                if (!key.equals(t.holds)) continue;
                List<String> live = w.liveMembersOn(host);
                if (live.isEmpty()) {
                    exempt.add(exemption(t));
                } else {
                    w.violate("key " + key + " of " + s.id + " revoked while target " + t + " of live member(s) " + live
                            + " holds it");
                }
            }
        });
    }

    /** Before a key is minted or accepted: no other rotation's new key may be valid and not yet live. */
    void oneAtATime(Simulation.Secret s, String key) {
        Set<String> live = new HashSet<>();
        for (SecretData d : w.store.everyVersion(s.live())) d.string("key").ifPresent(live::add);
        for (SecretData d : w.retiring(s)) d.string("key").ifPresent(live::add);
        for (String v : s.issuer.valid) {
            if (v.equals(key) || live.contains(v) || s.issuer.operators.contains(v)) continue;
            String req = s.issuer.requestOf.get(v);
            String mine = s.issuer.requestOf.get(key);
            if (req != null && req.equals(mine)) continue;
            w.violate("a new key of " + s.id + " is made while " + v + ", another rotation's new key, is valid and not live");
        }
    }

    /** A target that held a key when it was revoked, while every member serving it was silent; until it is written again. */
    private static String exemption(SimParts.Target t) {
        return t + "|" + t.holds + "|" + t.writes;
    }

}
