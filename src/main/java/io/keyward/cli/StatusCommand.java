package io.keyward.cli;

import io.keyward.daemon.Agent;
import io.keyward.policy.Durations;
import io.keyward.rotation.Journal;
import io.keyward.rotation.JournalEntry;
import io.keyward.rotation.Rotator;
import io.keyward.rotation.SecretBinding;
import io.keyward.rotation.SecretMetadata;
import io.keyward.rotation.Start;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "status", description = "Per secret: live version, age, next due time, any rotation in flight with "
        + "its phase and owner, and the last error. Never a value.")
final class StatusCommand implements Callable<Integer> {

    private final Cli.Context context;

    @Mixin
    Setup setup;

    @Option(names = {"-o", "--output"}, defaultValue = "text", description = "text or json.")
    String output;

    StatusCommand(Cli.Context context) {
        this.context = context;
    }

    @Override
    public Integer call() throws Exception {
        Output format = Output.valueOf(output.toUpperCase(java.util.Locale.ROOT));
        List<Map<String, Object>> rows = new ArrayList<>();
        Instant now = Instant.now();
        try (Agent agent = setup.agent(context)) {
            for (SecretBinding b : agent.bindings().values()) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("secret", b.id());
                row.put("path", b.livePath().toString());
                Optional<SecretMetadata> meta = agent.vault().metadata(b.livePath());
                row.put("live_version", meta.map(SecretMetadata::currentVersion).orElse(0));
                Optional<Instant> last = agent.rotator().lastRotated(b);
                row.put("last_rotated", last.map(Instant::toString).orElse(null));
                row.put("age", last.map(t -> Durations.format(Duration.between(t, now).withNanos(0))).orElse(null));
                row.put("next_due", agent.rotator().dueAt(b).toString());
                Optional<Journal.Journaled> j = agent.rotator().journal(b.id());
                JournalEntry e = j.map(Journal.Journaled::entry).orElse(null);
                boolean active = e != null && e.active();
                row.put("in_flight", active ? e.rotationId() : null);
                row.put("phase", e == null ? null : e.phase().word());
                row.put("owner", active ? e.owner() : null);
                row.put("lease_until", active && e.leaseUntil() != null ? e.leaseUntil().toString() : null);
                row.put("last_error", e == null ? null : e.lastError());
                int attempts = e == null || active ? 0 : Start.failedAttempts(e.history());
                row.put("failed_attempts", attempts);
                row.put("next_attempt", e == null || active ? null
                        : Rotator.nextAttempt(e, b.policy()).map(Instant::toString).orElse(null));
                row.put("live_key_refused_since", agent.rotator().liveRefusedSince(b).map(Instant::toString).orElse(null));
                Optional<JournalEntry.HistoryItem> outage = e == null ? Optional.empty()
                        : e.history().stream().filter(h -> h.outage() != null).findFirst();
                row.put("last_outage_seconds", outage.map(h -> h.outage().toMillis() / 1000.0).orElse(null));
                row.put("last_outage_ended", outage.map(h -> h.finishedAt().toString()).orElse(null));
                rows.add(row);
            }
        }
        if (format == Output.JSON) {
            context.out().println(Output.JSON_MAPPER.writeValueAsString(rows));
            return ExitCode.OK.code;
        }
        context.out().printf("%-24s %-5s %-12s %-22s %-34s %s%n", "SECRET", "LIVE", "AGE", "NEXT DUE (UTC)", "IN FLIGHT", "LAST ERROR");
        for (Map<String, Object> r : rows) {
            String flight = r.get("in_flight") == null ? "-" : r.get("phase") + " by " + r.get("owner");
            int attempts = (Integer) r.get("failed_attempts");
            if (attempts > 0) {
                flight = attempts + " failed, next " + (r.get("next_attempt") == null ? "-" : Output.time(r.get("next_attempt")));
            }
            context.out().printf("%-24s %-5s %-12s %-22s %-34s %s%n", r.get("secret"), "v" + r.get("live_version"),
                    r.get("age") == null ? "-" : r.get("age"),
                    Output.time(r.get("next_due")), flight,
                    r.get("last_error") == null ? "-" : r.get("last_error"));
        }
        for (Map<String, Object> r : rows) {
            if (r.get("live_key_refused_since") != null) {
                context.out().printf("%s: DocBits refuses the live key since %s: paste the new one: keyward submit %s%n",
                        r.get("secret"), Output.time(r.get("live_key_refused_since")), r.get("secret"));
            }
            if (r.get("last_outage_seconds") instanceof Double seconds) {
                context.out().printf("%s: last outage %s, ended %s (consumers had no working key from the old key's"
                                + " refusal or the submit to the last target's acknowledgement)%n", r.get("secret"),
                        io.keyward.rotation.Outage.format(Duration.ofMillis(Math.round(seconds * 1000))),
                        Output.time(r.get("last_outage_ended")));
            }
        }
        return ExitCode.OK.code;
    }
}
