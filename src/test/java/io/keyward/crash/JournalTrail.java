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
 * stayed silent or the service was killed first), never by one that says it did not. Lines are read from the file, as a person reading the trail would.
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
        List<String> problems = new ArrayList<>();
        int versions = 0;
        int unknown = 0;
        int settled = 0;
        for (String id : ids) {
            String journal = "secret/" + state + "/journal/" + id;
            JsonNode meta = vault.admin("GET", "secret/metadata/" + state + "/journal/" + id, null).path("data");
            int oldest = Math.max(1, meta.path("oldest_version").asInt(1));
            int current = meta.path("current_version").asInt(0);
            for (int at = oldest; at <= current; at++) {
                int v = at;
                JsonNode kept = meta.path("versions").path(String.valueOf(v));
                if (kept.isMissingNode() || !kept.path("deletion_time").asString("").isEmpty()) continue;
                JsonNode data = vault.admin("GET", "secret/data/" + state + "/journal/" + id + "?version=" + v, null)
                        .path("data").path("data");
                String rotation = data.path("rotation_id").asString("");
                String phase = data.path("phase").asString("");
                versions++;
                String what = id + " journal v" + v + " (" + phase + ", rotation " + rotation + ")";
                List<String> refused = new ArrayList<>();
                boolean announced = false;
                boolean told = false; // some attempt's write is audited ok, unknown, or not at all (killed)
                for (int intent = next(lines, 0, id, rotation, phase, v); intent >= 0;
                        intent = next(lines, intent + 1, id, rotation, phase, v)) {
                    announced = true;
                    String agent = lines.get(intent).path("agent").asString("");
                    int write = find(lines, intent + 1, l -> agent.equals(l.path("agent").asString(""))
                            && (l.path("event").asString("").equals("vault.write") && journal.equals(l.path("path").asString(""))
                            || l.path("event").asString("").equals("journal.intent") && id.equals(l.path("path").asString(""))));
                    if (write < 0 || !lines.get(write).path("event").asString("").equals("vault.write")) {
                        told = true; // killed before the answer
                        continue;
                    }
                    JsonNode w = lines.get(write);
                    String outcome = w.path("outcome").asString("");
                    if (!String.valueOf(v - 1).equals(w.path("cas").asString(""))) {
                        problems.add(what + ": the write after its intent has cas " + w.path("cas").asString(""));
                    } else if (outcome.equals("ok")) {
                        told = true;
                        if (w.path("version").asInt(0) != v) problems.add(what + ": audited ok at v" + w.path("version").asInt(0));
                    } else if (outcome.equals("unknown")) {
                        unknown++;
                        int s = find(lines, write + 1, l -> agent.equals(l.path("agent").asString(""))
                                && l.path("event").asString("").equals("journal.settled") && id.equals(l.path("path").asString(""))
                                && String.valueOf(v).equals(l.path("journal_version").asString("")));
                        if (s < 0) {
                            told = true; // Vault stayed silent, or the service was killed, before the check
                        } else if (lines.get(s).path("outcome").asString("").equals("ok")) {
                            settled++;
                            told = true;
                        } else {
                            refused.add("unknown, then settled as not landed at seq " + lines.get(s).path("seq").asString(""));
                        }
                    } else {
                        refused.add(outcome + " at seq " + w.path("seq").asString("") + " (" + w.path("error").asString("") + ")");
                    }
                }
                if (!announced) {
                    problems.add(what + ": no journal.intent line announces it");
                } else if (!told) {
                    problems.add(what + ": landed, but every write of it is audited as refused: " + refused);
                }
            }
        }
        return new Found(versions, unknown, settled, problems);
    }

    /** The next {@code journal.intent} line from {@code from} that announces this version of the journal. */
    private static int next(List<JsonNode> lines, int from, String id, String rotation, String phase, int v) {
        return find(lines, from, l -> l.path("event").asString("").equals("journal.intent")
                && id.equals(l.path("path").asString("")) && rotation.equals(l.path("rotation_id").asString(""))
                && phase.equals(l.path("phase").asString(""))
                && String.valueOf(v).equals(l.path("journal_version").asString("")));
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
