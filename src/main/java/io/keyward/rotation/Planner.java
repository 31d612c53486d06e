package io.keyward.rotation;

import io.keyward.policy.Policy;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Computes when each secret will rotate over a horizon, from its schedule and its last rotation. */
public final class Planner {

    /** One planned rotation: when it starts, where the value goes, when the old one becomes revocable. */
    public record Step(String secretId, Instant at, String why, List<String> targets, Instant oldRevocableAt) {}

    private static final int MAX_PER_SECRET = 500;

    private Planner() {}

    /**
     * Every rotation between {@code from} and {@code from + horizon}, in time order. A secret
     * missing from {@code lastRotated} does not exist yet and is created at the first chance.
     * Jitter is not applied (it only delays a start).
     */
    public static List<Step> plan(Policy policy, Map<String, Instant> lastRotated, Instant from, Duration horizon) {
        Instant end = from.plus(horizon);
        List<Step> out = new ArrayList<>();
        for (Policy.SecretPolicy s : policy.secrets()) {
            List<String> targets = s.targets().stream().map(Policy.TargetSpec::id).toList();
            Optional<Instant> last = Optional.ofNullable(lastRotated.get(s.id()));
            Instant at;
            String why;
            if (last.isEmpty()) {
                at = s.schedule().window().map(w -> w.nextOpen(from)).orElse(from);
                why = "does not exist yet";
            } else {
                Instant due = s.schedule().due(last.get());
                at = s.schedule().start(last.get(), from, 0);
                why = due.isBefore(from) ? "overdue since " + due : "due";
                if (s.schedule().maxAge().isPresent() && due.equals(last.get().plus(s.schedule().maxAge().get()))) {
                    why += " (max_age)";
                }
            }
            for (int i = 0; i < MAX_PER_SECRET && !at.isAfter(end) && !at.equals(Instant.MAX); i++) {
                out.add(new Step(s.id(), at, why, targets, at.plus(policy.graceOf(s))));
                Instant next = s.schedule().start(at, at, 0);
                if (!next.isAfter(at)) next = at.plus(Duration.ofMinutes(1));
                at = next;
                why = "due";
            }
        }
        out.sort(Comparator.comparing(Step::at).thenComparing(Step::secretId));
        return out;
    }
}
