package io.keyward.fleet;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyward.rotation.Ledger;
import io.keyward.testing.TestDirs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The local ledger: one file per secret, replaced by a rename; a lost or broken file only means delivering again. */
final class FileLedgerTest {

    private static final Ledger.Entry ENTRY = new Ledger.Entry(Map.of("app", new Ledger.Delivery(3, "hmac-sha256:ab"),
            "web", new Ledger.Delivery(2, "hmac-sha256:cd")), "rotation-7");

    @Test
    void put_thenGet_afterReopening_givesTheSameEntry() throws Exception {
        Path dir = TestDirs.fresh("ledger").resolve("ledger");
        FileLedger.open(dir).put("db", ENTRY);

        Ledger.Entry read = FileLedger.open(dir).get("db");

        assertThat(read).isEqualTo(ENTRY);
        assertThat(read.version("app")).isEqualTo(3);
        assertThat(read.version("none")).isZero();
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("db.json");
        }
    }

    @Test
    void get_ofASecretNeverDelivered_isEmpty_andCreatesNothing() throws Exception {
        Path dir = TestDirs.fresh("ledger").resolve("not-yet");
        assertThat(FileLedger.open(dir).get("db")).isEqualTo(Ledger.Entry.EMPTY);
        assertThat(Files.exists(dir)).isFalse();
    }

    @Test
    void get_ofAnUnreadableFile_isEmpty() throws Exception {
        Path dir = Files.createDirectories(TestDirs.fresh("ledger").resolve("ledger"));
        Files.writeString(dir.resolve("db.json"), "{\"targets\": {\"app\": ");
        assertThat(FileLedger.open(dir).get("db")).isEqualTo(Ledger.Entry.EMPTY);
    }

    @Test
    void file_holdsVersionsAndFingerprints_only() throws Exception {
        Path dir = TestDirs.fresh("ledger").resolve("ledger");
        FileLedger.open(dir).put("db", ENTRY);
        assertThat(Files.readString(dir.resolve("db.json"))).contains("\"version\":3", "hmac-sha256:ab", "rotation-7");
    }
}
