package io.keyward.sim;

import io.keyward.rotation.AuditEvent;
import io.keyward.rotation.SecretData;
import io.keyward.rotation.SecretPath;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Invariant 5: the audit trail is complete and true. Every journal write that lands was announced
 * by its agent's audit line just before it (phase, rotation and journal version), so a crash or a
 * lost answer cannot leave a step without a line; and no line says a rotation reached a phase
 * that no journal write recorded.
 */
final class AuditTrail {

    private final World w;
    /** Each agent's last audit line. */
    private final Map<String, AuditEvent> last = new HashMap<>();
    /** "secret|rotation|phase" of every journal write that landed. */
    private final Set<String> journaled = new HashSet<>();
    int announced;
    int lines;

    AuditTrail(World w) {
        this.w = w;
    }

    /** What an agent's audit sink receives. */
    void audited(String agent, AuditEvent e) {
        lines++;
        last.put(agent, e);
        String phase = e.attributes().get("phase");
        if (phase != null && e.event().equals("rotation." + phase) && e.outcome() == AuditEvent.Outcome.OK
                && !journaled.contains(e.path() + "|" + e.attributes().get("rotation_id") + "|" + phase)) {
            w.violate(agent + " audited " + e.event() + " of " + e.path() + " (rotation " + e.attributes().get("rotation_id")
                    + ") but no journal write has that phase");
        }
    }

    /** A write that reached the store (whatever became of its answer). */
    void written(String agent, SecretPath path, int version, SecretData data) {
        String p = path.path();
        int at = p.indexOf("/journal/");
        if (at < 0) return;
        String secret = p.substring(at + "/journal/".length());
        String rotation = data.string("rotation_id").orElse("");
        String phase = data.string("phase").orElse("");
        journaled.add(secret + "|" + rotation + "|" + phase);
        AuditEvent e = last.get(agent);
        if (e == null || !e.event().equals("journal.intent") || !secret.equals(e.path())
                || !rotation.equals(e.attributes().get("rotation_id")) || !phase.equals(e.attributes().get("phase"))
                || !String.valueOf(version).equals(e.attributes().get("journal_version"))) {
            w.violate(agent + " wrote journal v" + version + " of " + secret + " (" + phase + ", rotation " + rotation
                    + ") without announcing it in the audit first (last line: " + (e == null ? "none" : e.event()) + ")");
        } else {
            announced++;
        }
    }
}
