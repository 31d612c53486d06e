package io.keyward.cli;

import io.keyward.daemon.Agent;
import io.keyward.rotation.JournalEntry;
import io.keyward.rotation.Journal;
import io.keyward.rotation.SecretBinding;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import tools.jackson.databind.JsonNode;

@Command(name = "history", description = "The rotations of a secret, newest first: the one in flight with the time of "
        + "each phase, then the last finished ones from the journal, with the phase lines of the local audit log.")
final class HistoryCommand implements Callable<Integer> {

    private final Cli.Context context;

    @Mixin
    Setup setup;

    @Parameters(paramLabel = "ID", description = "The secret's id in the policy.")
    String id;

    HistoryCommand(Cli.Context context) {
        this.context = context;
    }

    @Override
    public Integer call() throws Exception {
        try (Agent agent = setup.agent(context)) {
            SecretBinding b = agent.binding(id);
            Optional<Journal.Journaled> j = agent.rotator().journal(b.id());
            if (j.isEmpty()) {
                context.out().println(b.id() + ": never rotated by keyward");
                return ExitCode.OK.code;
            }
            JournalEntry e = j.get().entry();
            context.out().printf("%s: rotation %s (%s) %s%n", b.id(), e.rotationId(), e.trigger(),
                    e.active() ? "in flight, owner " + e.owner() : e.phase().word());
            for (Map.Entry<String, java.time.Instant> t : e.phaseTimes().entrySet()) {
                context.out().printf("  %-12s %s%n", t.getKey(), t.getValue());
            }
            if (e.lastError() != null) context.out().printf("  last error   %s%n", e.lastError());
            List<JournalEntry.HistoryItem> history = e.history();
            if (!history.isEmpty()) {
                boolean outages = history.stream().anyMatch(h -> h.outage() != null);
                context.out().printf("%-38s %-10s %-12s %-9s %-22s " + (outages ? "%-10s " : "%s") + "%s%n", "ROTATION",
                        "TRIGGER", "OUTCOME", "VERSIONS", "FINISHED (UTC)", outages ? "OUTAGE" : "", "ERROR");
                for (JournalEntry.HistoryItem h : history) {
                    context.out().printf("%-38s %-10s %-12s %-9s %-22s " + (outages ? "%-10s " : "%s") + "%s%n",
                            h.rotationId(), h.trigger(), h.outcome(), "v" + h.fromVersion() + "->v" + h.toVersion(),
                            h.finishedAt() == null ? "-" : Output.time(h.finishedAt()),
                            !outages ? "" : h.outageLength().map(io.keyward.rotation.Outage::format).orElse("-"),
                            h.error() == null ? "-" : h.error());
                }
            }
            auditLines(agent, b.id());
        }
        return ExitCode.OK.code;
    }

    private void auditLines(Agent agent, String secretId) {
        java.nio.file.Path file = agent.config().audit().file();
        if (!Files.isReadable(file)) return;
        try (var lines = Files.lines(file)) {
            List<String> mine = lines.filter(l -> l.contains("\"event\":\"rotation.") && l.contains("\"path\":\"" + secretId + "\""))
                    .toList();
            if (mine.isEmpty()) return;
            context.out().println("audit (" + file + "):");
            for (String l : mine.subList(Math.max(0, mine.size() - 40), mine.size())) {
                JsonNode n = Output.JSON_MAPPER.readTree(l);
                context.out().printf("  %s %-20s %-8s %s%s%n", n.path("time").asString(), n.path("event").asString(),
                        n.path("outcome").asString(), n.path("rotation_id").asString(),
                        n.has("detail") ? " " + n.path("detail").asString() : "");
            }
        } catch (java.io.IOException | RuntimeException e) {
            context.err().println("keyward: could not read the audit log " + file + ": " + e.getMessage());
        }
    }
}
