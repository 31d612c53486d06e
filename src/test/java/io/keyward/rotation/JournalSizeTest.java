package io.keyward.rotation;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyward.testing.TestVault;
import io.keyward.testing.VaultExtension;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A journal entry of a large fleet (300 hosts with three targets each, a full history) fits in one
 * write to a real OpenBao, whose requests are limited to 1,000 JSON strings by default, and reads
 * back the same.
 */
@ExtendWith(VaultExtension.class)
final class JournalSizeTest {

    @Test
    void entryOfALargeFleet_isWrittenAndReadBack(TestVault vault) throws Exception {
        Instant t = Instant.parse("2026-06-01T10:00:00Z");
        List<JournalEntry.HistoryItem> history = new ArrayList<>();
        for (int i = 0; i < JournalEntry.HISTORY; i++) {
            history.add(new JournalEntry.HistoryItem("r" + i, "schedule", t, t, "completed", i, i + 1, null));
        }
        JournalEntry e = JournalEntry.start("db", "r99", "host-0", t, t.plusSeconds(120), "schedule", false, 7, history)
                .promotedAs(8).to(Phase.PROMOTED, t);
        for (int h = 0; h < 300; h++) {
            e = e.acked("host-" + h, Map.of("app", new JournalEntry.Ack(8, t), "web", new JournalEntry.Ack(8, t),
                    "reload", new JournalEntry.Ack(9, t.plusSeconds(h))), t);
        }
        try (RotationFixture f = RotationFixture.open(vault)) {
            SecretPath p = vault.uniquePath("journal");
            f.store().write(p, JournalCodec.toData(e), OptionalInt.of(0));
            JournalEntry back = JournalCodec.fromData("db", f.store().read(p).orElseThrow().data());
            assertThat(back.acks()).isEqualTo(e.acks());
            assertThat(back.ack("host-299", "reload")).contains(new JournalEntry.Ack(9, t.plusSeconds(299)));
            assertThat(back.history()).isEqualTo(e.history());
        }
    }
}
