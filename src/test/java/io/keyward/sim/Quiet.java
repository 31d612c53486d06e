package io.keyward.sim;

import io.keyward.rotation.Decision;
import io.keyward.rotation.SecretBinding;
import io.keyward.rotation.SecretData;
import io.keyward.rotation.SecretMetadata;
import io.keyward.rotation.StoreException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * The end of a schedule: faults stop, every agent runs again (silent ones come back), an operator
 * replaces a live version that was deleted or refused, and the agents resume and watch for a
 * while. Then the live version, the issuer and every target of every host must agree on one key,
 * with nothing in flight.
 */
final class Quiet {

    private static final int ROUNDS = 30;
    private final World w;

    Quiet(World w) {
        this.w = w;
    }

    void settle() {
        w.event = -1;
        w.log("quiet period");
        w.faults.store = 0;
        w.faults.issuer = 0;
        w.faults.issuerDown = false;
        w.faults.verifierRejects = false;
        w.faults.verifierFlaky = 0;
        for (Simulation.Secret s : w.secrets) {
            s.targets.values().forEach(ts -> ts.forEach(t -> {
                t.down = false;
                t.flaky = false;
                t.losesWrites = false;
            }));
        }
        for (Simulation.Agent a : w.agents) {
            if (a.state != Simulation.State.UP) {
                a.state = Simulation.State.DOWN;
                w.restart(a);
            }
        }
        int round = 0;
        for (; round < ROUNDS && !settled(); round++) {
            repairLive();
            w.tick(Duration.ofMinutes(3));
            for (Simulation.Agent a : w.agents) {
                for (Simulation.Secret s : w.secrets) {
                    w.act(a, s, "quiet resume", b -> a.rotator.resume(b));
                    if (w.liveValue(s).isEmpty()) w.act(a, s, "quiet schedule", b -> a.rotator.rotate(b, false, false, "schedule"));
                    w.act(a, s, "quiet watch", b -> a.rotator.sync(b));
                }
            }
            w.check();
            if (!w.violations.isEmpty()) return;
        }
        if (!settled()) report();
    }

    /** A live version that is deleted or was refused is replaced by an operator, as a person would. */
    private void repairLive() {
        for (Simulation.Secret s : w.secrets) {
            Optional<SecretMetadata> m = w.store.metadata(s.live());
            if (m.isEmpty() || m.get().currentVersion() == 0) continue;
            boolean deleted = m.get().version(m.get().currentVersion()).map(v -> !v.readable()).orElse(false);
            boolean refused = String.valueOf(m.get().currentVersion()).equals(m.get().customMetadata().get("keyward-refused"));
            if (deleted || refused) w.operatorWrite(s);
        }
    }

    private boolean settled() {
        for (Simulation.Secret s : w.secrets) {
            if (w.inFlight(s).isPresent()) return false;
            Optional<String> live = w.liveValue(s);
            if (live.isEmpty()) {
                if (!neverHadOne(s)) return false;
                continue;
            }
            for (List<SimParts.Target> ts : s.targets.values()) {
                for (SimParts.Target t : ts) if (!live.get().equals(t.holds)) return false;
            }
            if (s.kind != Decision.Source.GENERATED) {
                Set<String> handed = w.handedOver(s);
                for (String k : s.issuer.valid) {
                    if (!k.equals(live.get()) && !s.issuer.operators.contains(k) && !handed.contains(k)) return false;
                }
                if (!s.issuer.valid.contains(live.get())) return false;
            }
        }
        return true;
    }

    /** A secret that never got a first value (every attempt failed, or its window stayed shut): nothing to agree on. */
    private boolean neverHadOne(Simulation.Secret s) {
        if (w.store.metadata(s.live()).map(SecretMetadata::currentVersion).orElse(0) > 0) return false;
        for (List<SimParts.Target> ts : s.targets.values()) for (SimParts.Target t : ts) if (t.holds != null) return false;
        return s.issuer.valid.stream().allMatch(s.issuer.operators::contains);
    }

    private void report() {
        for (Simulation.Secret s : w.secrets) {
            Optional<String> live = w.liveValue(s);
            w.inFlight(s).ifPresent(r -> w.violate("after the quiet period rotation " + r + " of " + s.id + " is still in flight"));
            if (live.isEmpty()) {
                if (!neverHadOne(s)) w.violate("after the quiet period " + s.id + " has no readable live value");
                continue;
            }
            for (List<SimParts.Target> ts : s.targets.values()) {
                for (SimParts.Target t : ts) {
                    if (!live.get().equals(t.holds)) {
                        w.violate("after the quiet period target " + t + " holds " + t.holds + ", not the live " + live.get());
                    }
                }
            }
            if (s.kind == Decision.Source.GENERATED) continue;
            if (!s.issuer.valid.contains(live.get())) w.violate("after the quiet period the live key of " + s.id + " is not valid");
            Set<String> handed = w.handedOver(s);
            for (String k : s.issuer.valid) {
                if (!k.equals(live.get()) && !s.issuer.operators.contains(k) && !handed.contains(k)) {
                    w.violate("after the quiet period key " + k + " of " + s.id + " is still valid besides the live one");
                }
            }
        }
    }
}
