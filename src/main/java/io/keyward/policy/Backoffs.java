package io.keyward.policy;

import java.time.Duration;
import java.util.Optional;

/**
 * The one retry shape of both YAML files, the policy (its defaults and each secret) and the agent
 * configuration ({@code vault.retry}): {@code attempts} and {@code backoff: { initial, max }} side
 * by side. The wait before attempt n+1 is initial * 2^(n-1), capped at max, jittered to 50-100%.
 */
public final class Backoffs {

    /** A rotation step (issue, verify, deliver, revoke) within one cycle, unless the policy says otherwise. */
    public static final Policy.RetrySpec STEPS = new Policy.RetrySpec(3, Duration.ofSeconds(1), Duration.ofMinutes(1));
    /** A Vault call that is safe to repeat, unless {@code vault.retry} says otherwise. */
    public static final Policy.RetrySpec VAULT = new Policy.RetrySpec(4, Duration.ofMillis(250), Duration.ofSeconds(5));

    private Backoffs() {}

    /** Reads {@code attempts} and {@code backoff} from {@code f}; what is not given comes from {@code fallback}. */
    public static Policy.RetrySpec read(Fields f, Policy.RetrySpec fallback) {
        int attempts = f.integer("attempts", fallback.attempts(), 1, 20);
        Duration initial = fallback.initial();
        Duration max = fallback.max();
        Optional<Fields> b = f.object("backoff");
        if (b.isPresent()) {
            initial = b.get().duration("initial", initial, Duration.ZERO, Duration.ofHours(1));
            max = b.get().duration("max", max, Duration.ZERO, Duration.ofDays(1));
            if (max.compareTo(initial) < 0) {
                f.problems().add(b.get().markOf("max"), "backoff max " + Durations.format(max) + " is shorter than initial "
                        + Durations.format(initial), "make max at least the initial backoff");
                max = initial;
            }
            b.get().finish();
        }
        return new Policy.RetrySpec(attempts, initial, max);
    }
}
