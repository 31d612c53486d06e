package io.keyward.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyward.policy.Policy;
import io.keyward.rotation.Outcome;
import io.keyward.rotation.Phase;
import io.keyward.rotation.SecretBinding;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

final class NextRunTest {

    private static final Instant NOW = Instant.parse("2026-05-01T12:00:00Z");

    @Test
    void noJournal_followsTheScheduleWithJitter_orStartsAtOnceForAMissingSecret() throws Exception {
        SecretBinding b = binding("{ every: 1d, jitter: 1h }");
        assertThat(NextRun.after(b, Optional.empty(), Optional.of(NOW.minus(Duration.ofHours(2))), NOW, 0.5, "me"))
                .isEqualTo(NOW.plus(Duration.ofHours(22)).plus(Duration.ofMinutes(30)));
        assertThat(NextRun.after(b, Optional.empty(), Optional.empty(), NOW, 0.5, "me")).isEqualTo(NOW);
    }

    @Test
    void afterOutcome_waitsEndAtTheirTime_failuresCoolDown() throws Exception {
        SecretBinding b = binding("{ every: 1d }");
        Instant until = NOW.plus(Duration.ofMinutes(7));
        assertThat(NextRun.afterOutcome(b, new Outcome.Waiting("x", "r", Phase.DELIVERED, until, "grace"), NOW)).contains(until);
        assertThat(NextRun.afterOutcome(b, new Outcome.RolledBack("x", "r", "verify"), NOW)).as("the backoff decides")
                .isEmpty();
        assertThat(NextRun.afterOutcome(b, new Outcome.Stopped("x", "r", Phase.STAGED, "vault down"), NOW))
                .contains(NOW.plus(Duration.ofMinutes(1)));
        assertThat(NextRun.afterOutcome(b, new Outcome.Completed("x", "r", 1, 2), NOW)).isEmpty();
    }

    private static SecretBinding binding(String schedule) throws Exception {
        Policy.SecretPolicy s = Policy.parse("n.yaml", String.join("\n", "secrets:", "  - id: n", "    path: n",
                "    generator: { type: random }", "    schedule: " + schedule, "")).secrets().get(0);
        return new SecretBinding(s, new io.keyward.rotation.KeySource.Generated(() -> "x", Optional.empty()), List.of(),
                List.of());
    }
}
