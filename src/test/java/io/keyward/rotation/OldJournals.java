package io.keyward.rotation;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * A rotation left in flight by an older keyward, written as it wrote it (journal format 1:
 * acknowledgements by target id alone, no kept copy of the old value): the new key issued,
 * staged, promoted to the live path and delivered to the target.
 */
final class OldJournals {

    private OldJournals() {}

    /** Leaves the secret's next rotation at {@code phase} ("promoted" or "delivered"); returns the new key. */
    static String inFlight(RotationFixture f, RotationFixture.Secret s, String phase, boolean delivered) throws Exception {
        SecretPath live = s.binding().livePath();
        int before = f.store().metadata(live).orElseThrow().currentVersion();
        String key = s.issuer().issue(s.id(), "older-rotation");
        SecretData value = SecretData.of("api_key", key);
        int pending = f.store().write(f.state().child("pending").child(s.id()), value, OptionalInt.empty());
        int promoted = f.store().write(live, value, OptionalInt.of(before));
        if (delivered) s.target().deliver(s.id(), promoted, value);
        Instant now = f.clock.instant();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("secret_id", s.id());
        m.put("rotation_id", "older-rotation");
        m.put("phase", phase);
        m.put("owner", "older-agent");
        m.put("lease_until", now.minusSeconds(1).toString());
        m.put("started_at", now.minusSeconds(60).toString());
        m.put("updated_at", now.minusSeconds(30).toString());
        m.put("trigger", "schedule");
        m.put("emergency", false);
        m.put("live_version_before", before);
        m.put("pending_version", pending);
        m.put("new_version", promoted);
        m.put("new_fingerprint", "hmac-sha256:00000000000000000000000000000000");
        m.put("acks", delivered ? Map.of("t1", promoted) : Map.of());
        m.put("attempts", 0);
        m.put("retire_after", now.minusSeconds(1).toString());
        m.put("phase_times", Map.of("claimed", now.minusSeconds(60).toString(), phase, now.minusSeconds(30).toString()));
        m.put("history", List.of());
        SecretPath journal = f.state().child("journal").child(s.id());
        int j = f.store().metadata(journal).map(SecretMetadata::currentVersion).orElse(0);
        f.store().write(journal, SecretData.of(m), OptionalInt.of(j));
        return key;
    }
}
