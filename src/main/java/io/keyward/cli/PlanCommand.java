package io.keyward.cli;

import io.keyward.daemon.Agent;
import io.keyward.daemon.AgentConfig;
import io.keyward.policy.Durations;
import io.keyward.policy.Policy;
import io.keyward.rotation.Planner;
import io.keyward.rotation.SecretBinding;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "plan", description = "Show when each secret will rotate, which targets receive it, and when each "
        + "old value becomes revocable. Reads only metadata from Vault (or nothing, with --offline); never a value.")
final class PlanCommand implements Callable<Integer> {

    private final Cli.Context context;

    @Mixin
    Setup setup;

    @Option(names = "--from", paramLabel = "TIME", description = "Start of the timeline, ISO-8601 (default: now).")
    Instant from;

    @Option(names = "--horizon", paramLabel = "DURATION", defaultValue = "90d",
            description = "How far ahead to look (default: ${DEFAULT-VALUE}).")
    String horizon;

    @Option(names = "--offline", description = "Do not ask Vault: count every secret as rotated at --from.")
    boolean offline;

    @Option(names = {"-o", "--output"}, defaultValue = "text", description = "text or json.")
    String output;

    PlanCommand(Cli.Context context) {
        this.context = context;
    }

    @Override
    public Integer call() throws Exception {
        Duration span = Durations.parse(horizon);
        Output format = Output.valueOf(output.toUpperCase(java.util.Locale.ROOT));
        Instant start = from != null ? from : Instant.now();
        Policy policy;
        Map<String, Instant> last = new HashMap<>();
        if (offline) {
            AgentConfig agent = setup.policy == null ? setup.agentConfig(context) : null;
            policy = setup.policy != null ? Policy.load(setup.policy) : setup.policy(agent);
            policy.secrets().forEach(s -> last.put(s.id(), start));
        } else {
            try (Agent agent = setup.agent(context)) {
                policy = agent.policy();
                for (SecretBinding b : agent.bindings().values()) {
                    agent.rotator().lastRotated(b).ifPresent(t -> last.put(b.id(), t));
                }
            }
        }
        List<Planner.Step> steps = Planner.plan(policy, last, start, span);
        if (format == Output.JSON) {
            List<Map<String, Object>> rows = steps.stream().map(s -> {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("secret", s.secretId());
                m.put("at", s.at().toString());
                m.put("why", s.why());
                m.put("targets", s.targets());
                m.put("old_revocable_at", s.oldRevocableAt().toString());
                return m;
            }).toList();
            context.out().println(Output.JSON_MAPPER.writeValueAsString(Map.of("from", start.toString(),
                    "horizon", Durations.format(span), "rotations", rows)));
            return ExitCode.OK.code;
        }
        context.out().printf("Rotations from %s for %s (%d):%n", start, Durations.format(span), steps.size());
        context.out().printf("%-22s %-24s %-28s %-22s %s%n", "WHEN (UTC)", "SECRET", "WHY", "OLD REVOCABLE", "TARGETS");
        for (Planner.Step s : steps) {
            context.out().printf("%-22s %-24s %-28s %-22s %s%n", Output.time(s.at()),
                    s.secretId(), s.why().length() > 28 ? s.why().substring(0, 27) + "…" : s.why(),
                    Output.time(s.oldRevocableAt()),
                    s.targets().isEmpty() ? "-" : String.join(", ", s.targets()));
        }
        return ExitCode.OK.code;
    }
}
