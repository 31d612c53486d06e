package io.keyward.cli;

import io.keyward.daemon.Agent;
import io.keyward.fleet.Members;
import io.keyward.rotation.Journal;
import io.keyward.rotation.JournalEntry;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "fleet", description = {
        "The agents that serve secrets from their hosts, as their membership records in Vault say: agent id, host, "
                + "keyward version, last heartbeat, state (live, silent past fleet.member_timeout, or stopped), the "
                + "secrets each serves, and the targets of each that a rotation in flight still waits for.",
        "keyward fleet forget ID removes the record of a decommissioned host."},
        subcommands = FleetCommand.Forget.class)
final class FleetCommand implements Callable<Integer> {

    private final Cli.Context context;

    @Mixin
    Setup setup;

    @Option(names = {"-o", "--output"}, defaultValue = "text", description = "text or json.")
    String output;

    FleetCommand(Cli.Context context) {
        this.context = context;
    }

    @Override
    public Integer call() throws Exception {
        Output format = Output.valueOf(output.toUpperCase(java.util.Locale.ROOT));
        List<Map<String, Object>> rows = new ArrayList<>();
        try (Agent agent = setup.agent(context)) {
            Instant now = Instant.now();
            List<Members.Record> records = agent.members().all();
            Map<String, Optional<JournalEntry>> flights = new LinkedHashMap<>();
            for (Members.Record r : records) {
                for (String id : r.secrets().keySet()) {
                    if (!flights.containsKey(id)) {
                        flights.put(id, agent.rotator().journal(id).map(Journal.Journaled::entry)
                                .filter(e -> e.active() && e.phase().promoted()));
                    }
                }
            }
            for (Members.Record r : records) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("agent", r.agent());
                row.put("host", r.host());
                row.put("version", r.version());
                row.put("started", r.started().toString());
                row.put("heartbeat", r.heartbeat().toString());
                row.put("state", r.stopped() ? "stopped" : r.live(now, agent.config().memberTimeout()) ? "live" : "silent");
                row.put("secrets", List.copyOf(new TreeSet<>(r.secrets().keySet())));
                List<String> pending = new ArrayList<>();
                r.secrets().forEach((id, served) -> flights.get(id).ifPresent(e -> {
                    for (String t : new TreeSet<>(served.targets())) if (e.ack(r.agent(), t).isEmpty()) pending.add(id + "/" + t);
                }));
                row.put("pending_acks", pending);
                rows.add(row);
            }
        }
        if (format == Output.JSON) {
            context.out().println(Output.JSON_MAPPER.writeValueAsString(rows));
            return ExitCode.OK.code;
        }
        if (rows.isEmpty()) {
            context.out().println("no members: no agent has registered yet");
            return ExitCode.OK.code;
        }
        context.out().printf("%-20s %-20s %-16s %-22s %-8s %-30s %s%n", "AGENT", "HOST", "VERSION", "HEARTBEAT (UTC)", "STATE",
                "SECRETS", "PENDING ACKS");
        for (Map<String, Object> r : rows) {
            @SuppressWarnings("unchecked")
            List<String> pending = (List<String>) r.get("pending_acks");
            @SuppressWarnings("unchecked")
            List<String> secrets = (List<String>) r.get("secrets");
            context.out().printf("%-20s %-20s %-16s %-22s %-8s %-30s %s%n", r.get("agent"), r.get("host"), r.get("version"),
                    Output.time(r.get("heartbeat")), r.get("state"), String.join(",", secrets),
                    pending.isEmpty() ? "-" : String.join(", ", pending));
        }
        return ExitCode.OK.code;
    }

    @Command(name = "forget", description = "Remove the membership record of an agent that is gone for good (a "
            + "decommissioned host): rotations stop waiting for it at once, without the degraded notice.")
    static final class Forget implements Callable<Integer> {

        private final Cli.Context context;

        @Mixin
        Setup setup;

        @Parameters(paramLabel = "ID", description = "The agent id, as keyward fleet lists it.")
        String id;

        @Option(names = {"-o", "--output"}, defaultValue = "text", description = "text or json.")
        String output;

        Forget(Cli.Context context) {
            this.context = context;
        }

        @Override
        public Integer call() throws Exception {
            try (Agent agent = setup.agent(context)) {
                boolean known = agent.members().forget(id);
                if (Output.valueOf(output.toUpperCase(java.util.Locale.ROOT)) == Output.JSON) {
                    context.out().println(Output.JSON_MAPPER.writeValueAsString(Map.of("agent", id, "forgotten", known)));
                } else {
                    context.out().println(known ? "forgot member " + id : "no member " + id + " (nothing to forget)");
                }
                return known ? ExitCode.OK.code : ExitCode.USAGE.code;
            }
        }
    }
}
