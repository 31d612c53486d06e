package io.keyward.rotation;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyward.policy.Policy;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

final class PlannerTest {

    private static final Policy POLICY = parse();

    private static Policy parse() {
        try {
            return Policy.parse("plan.yaml", String.join("\n",
                    "secrets:",
                    "  - id: db",
                    "    path: apps/db",
                    "    generator: { type: random }",
                    "    schedule: { every: 30d }",
                    "    grace: 2h",
                    "    targets: [{ id: app, type: file, path: /etc/app/db }]",
                    "  - id: api",
                    "    path: apps/api",
                    "    generator: { type: random }",
                    "    schedule: { cron: \"0 4 1 * *\", zone: UTC }",
                    ""));
        } catch (io.keyward.policy.ConfigException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void plan_listsEveryRotationInTheHorizon_inTimeOrder() {
        Instant from = Instant.parse("2026-01-10T00:00:00Z");
        List<Planner.Step> steps = Planner.plan(POLICY,
                Map.of("db", Instant.parse("2026-01-01T00:00:00Z"), "api", Instant.parse("2026-01-01T04:00:00Z")),
                from, Duration.ofDays(65));

        assertThat(steps).extracting(s -> s.secretId() + "@" + s.at()).containsExactly(
                "db@2026-01-31T00:00:00Z", "api@2026-02-01T04:00:00Z", "api@2026-03-01T04:00:00Z",
                "db@2026-03-02T00:00:00Z");
        assertThat(steps.get(0).targets()).containsExactly("app");
        assertThat(steps.get(0).oldRevocableAt()).isEqualTo(Instant.parse("2026-01-31T02:00:00Z"));
    }

    @Test
    void plan_overdueAndMissingSecrets_startAtOnce() {
        Instant from = Instant.parse("2026-06-01T00:00:00Z");
        List<Planner.Step> steps = Planner.plan(POLICY, Map.of("db", Instant.parse("2026-01-01T00:00:00Z")),
                from, Duration.ofHours(1));

        assertThat(steps).extracting(Planner.Step::secretId).containsExactlyInAnyOrder("db", "api");
        assertThat(steps).allSatisfy(s -> assertThat(s.at()).isEqualTo(from));
        assertThat(steps).filteredOn(s -> s.secretId().equals("db")).singleElement()
                .satisfies(s -> assertThat(s.why()).startsWith("overdue since 2026-01-31"));
        assertThat(steps).filteredOn(s -> s.secretId().equals("api")).singleElement()
                .satisfies(s -> assertThat(s.why()).isEqualTo("does not exist yet"));
    }

    /** A single-key DocBits account has no grace: the old key is dead once the new one exists. */
    @Test
    void plan_singleKeyAccount_oldKeyIsRevocableAtOnce() throws Exception {
        Policy p = Policy.parse("single.yaml", String.join("\n",
                "issuers:",
                "  erp: { type: docbits, mode: manual, keys: single, base_url: \"https://docbits.example\", org: acme }",
                "  many: { type: docbits, mode: manual, base_url: \"https://docbits.example\", org: acme }",
                "secrets:",
                "  - id: single",
                "    path: apps/single",
                "    generator: { type: issuer, issuer: erp }",
                "    schedule: { every: 90d }",
                "    grace: 1h",
                "  - id: several",
                "    path: apps/several",
                "    generator: { type: issuer, issuer: many }",
                "    schedule: { every: 90d }",
                "    grace: 1h",
                ""));
        Instant from = Instant.parse("2026-06-01T00:00:00Z");
        List<Planner.Step> steps = Planner.plan(p, Map.of(), from, Duration.ofHours(1));

        assertThat(steps).extracting(s -> s.secretId() + " " + Duration.between(s.at(), s.oldRevocableAt()))
                .containsExactlyInAnyOrder("single PT0S", "several PT1H");
    }
}
