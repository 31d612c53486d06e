package io.keyward.crash;

import io.keyward.testing.TestVault;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Holds a host's audit file to what Vault's journal says happened: every journal version Vault
 * still keeps was announced by a {@code journal.intent} line of its phase, rotation and version,
 * and the Vault write after that line is audited {@code ok} at that version or {@code unknown}
 * (its answer lost), never as failed or a conflict, since it landed. A version written by an
 * attempt repeated after an earlier one did not land is told by the later one; an {@code unknown}
 * answer tells it by the {@code journal.settled} line that says it landed (or by none, when Vault
 * stayed silent or the service was killed first), never by one that says it did not. Lines are
 * read from the file, as a person reading the trail would.
 */
final class JournalTrail {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** What was found for one host: the versions checked, the answers lost, and each disagreement. */
    record Found(int versions, int unknownAnswers, int settledLanded, List<String> problems) {
        @Override
        public String toString() {
            return "journal_versions=" + versions + " unknown_answers=" + unknownAnswers + " settled_landed="
                    + settledLanded + " problems=" + problems.size();
        }
    }

    private JournalTrail() {}

    /** Checks the journals of {@code ids} under state path {@code state} against the audit file {@code audit}. */
    static Found check(TestVault vault, String state, List<String> ids, Path audit) throws IOException {
        List<JsonNode> lines = lines(audit);
        Tally t = new Tally();
        for (String id : ids) {
            JsonNode meta = vault.admin("GET", "secret/metadata/" + state + "/journal/" + id, null).path("data");
            int current = meta.path("current_version").asInt(0);
            for (int v = Math.max(1, meta.path("oldest_version").asInt(1)); v <= current; v++) {
                JsonNode kept = meta.path("versions").path(String.valueOf(v));
                if (kept.isMissingNode() || !text(kept, "deletion_time").isEmpty()) continue;
                JsonNode data = vault.admin("GET", "secret/data/" + state + "/journal/" + id + "?version=" + v, null)
                        .path("data").path("data");
                t.versions++;
                checkVersion(lines, "secret/" + state + "/journal/" + id, id, v, text(data, "rotation_id"),
                        text(data, "phase"), t);
            }
        }
        return new Found(t.versions, t.unknown, t.settled, t.problems);
    }

    /** The counts and problems of one check. */
    private static final class Tally {
        int versions;
        int unknown;
        int settled;
        final List<String> problems = new ArrayList<>();
    }

    /** One journal version that landed: some attempt announced it, and none of them is audited as refused only. */
    private static void checkVersion(List<JsonNode> lines, String journal, String id, int v, String rotation, String phase,
                                     Tally t) {
        String what = id + " journal v" + v + " (" + phase + ", rotation " + rotation + ")";
        List<String> refused = new ArrayList<>();
        boolean announced = false;
        boolean told = false; // some attempt's write is audited ok, unknown, or not at all (killed)
        for (int intent = next(lines, 0, id, rotation, phase, v); intent >= 0;
                intent = next(lines, intent + 1, id, rotation, phase, v)) {
            announced = true;
            String agent = text(lines.get(intent), "agent");
            int write = find(lines, intent + 1, l -> agent.equals(text(l, "agent"))
                    && (is(l, "vault.write", journal) || is(l, "journal.intent", id)));
            if (write < 0 || !is(lines.get(write), "vault.write", journal)) {
                told = true; // killed before the answer
                continue;
            }
            JsonNode w = lines.get(write);
            String outcome = text(w, "outcome");
            if (!String.valueOf(v - 1).equals(text(w, "cas"))) {
                t.problems.add(what + ": the write after its intent has cas " + text(w, "cas"));
            } else if (outcome.equals("ok")) {
                told = true;
                if (w.path("version").asInt(0) != v) t.problems.add(what + ": audited ok at v" + w.path("version").asInt(0));
            } else if (outcome.equals("unknown")) {
                t.unknown++;
                int s = find(lines, write + 1, l -> agent.equals(text(l, "agent")) && is(l, "journal.settled", id)
                        && String.valueOf(v).equals(text(l, "journal_version")));
                if (s < 0) {
                    told = true; // Vault stayed silent, or the service was killed, before the check
                } else if (text(lines.get(s), "outcome").equals("ok")) {
                    t.settled++;
                    told = true;
                } else {
                    refused.add("unknown, then settled as not landed at seq " + text(lines.get(s), "seq"));
                }
            } else {
                refused.add(outcome + " at seq " + text(w, "seq") + " (" + text(w, "error") + ")");
            }
        }
        if (!announced) {
            t.problems.add(what + ": no journal.intent line announces it");
        } else if (!told) {
            t.problems.add(what + ": landed, but every write of it is audited as refused: " + refused);
        }
    }

    /** The next {@code journal.intent} line from {@code from} that announces this version of the journal. */
    private static int next(List<JsonNode> lines, int from, String id, String rotation, String phase, int v) {
        return find(lines, from, l -> is(l, "journal.intent", id) && rotation.equals(text(l, "rotation_id"))
                && phase.equals(text(l, "phase")) && String.valueOf(v).equals(text(l, "journal_version")));
    }

    /** Whether an audit line is this event on this path. */
    private static boolean is(JsonNode line, String event, String path) {
        return event.equals(text(line, "event")) && path.equals(text(line, "path"));
    }

    private static String text(JsonNode node, String field) {
        return node.path(field).asString("");
    }

    private static int find(List<JsonNode> lines, int from, java.util.function.Predicate<JsonNode> p) {
        for (int i = from; i < lines.size(); i++) {
            if (p.test(lines.get(i))) return i;
        }
        return -1;
    }

    /** The audit file's lines, rolled files first (their names sort by date and number). */
    private static List<JsonNode> lines(Path audit) throws IOException {
        List<Path> files = new ArrayList<>();
        try (Stream<Path> s = Files.list(audit.getParent())) {
            s.filter(p -> p.getFileName().toString().startsWith(audit.getFileName() + ".")).sorted().forEach(files::add);
        }
        if (Files.exists(audit)) files.add(audit);
        List<JsonNode> lines = new ArrayList<>();
        for (Path f : files) {
            for (String l : Files.readAllLines(f)) {
                if (!l.isBlank()) lines.add(JSON.readTree(l));
            }
        }
        return lines;
    }
}
