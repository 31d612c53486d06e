package io.keyward.fleet;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyward.rotation.Ledger;
import io.keyward.testing.TestDirs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The local ledger: one append-only file, the last line of a secret winning; what another process
 * appends is seen at the next read; a lost or broken line only means delivering again.
 */
final class FileLedgerTest {

    private static final Ledger.Entry ENTRY = new Ledger.Entry(Map.of("app", new Ledger.Delivery(3, "hmac-sha256:ab",
            "file /srv/app/key"), "web", new Ledger.Delivery(2, "hmac-sha256:cd", null)), "rotation-7", "kw-vault-1");
    private static final Ledger.Entry LATER = new Ledger.Entry(Map.of("app", new Ledger.Delivery(4, "hmac-sha256:ef",
            "file /srv/app/key")), null, "kw-vault-1");

    @Test
    void put_thenGet_afterReopening_givesTheSameEntry() throws Exception {
        Path dir = TestDirs.fresh("ledger").resolve("ledger");
        FileLedger.open(dir).put("db", ENTRY);

        Ledger.Entry read = FileLedger.open(dir).get("db");

        assertThat(read).isEqualTo(ENTRY);
        assertThat(read.version("app")).isEqualTo(3);
        assertThat(read.version("none")).isZero();
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly(FileLedger.FILE);
        }
    }

    @Test
    void get_ofASecretNeverDelivered_isEmpty_andCreatesNothing() throws Exception {
        Path dir = TestDirs.fresh("ledger").resolve("not-yet");
        assertThat(FileLedger.open(dir).get("db")).isEqualTo(Ledger.Entry.EMPTY);
        assertThat(Files.exists(dir)).isFalse();
    }

    @Test
    void aDamagedLine_losesOnlyThatChange_andATornLastLineStaysApartFromTheNext() throws Exception {
        Path dir = TestDirs.fresh("ledger").resolve("ledger");
        FileLedger.open(dir).put("db", ENTRY);
        FileLedger.open(dir).put("web", ENTRY);
        // a line cut off by a crash in the middle of an append
        Files.writeString(dir.resolve(FileLedger.FILE), "{\"secret\":\"db\",\"targets\": {\"app\": ", StandardOpenOption.APPEND);

        FileLedger after = FileLedger.open(dir);
        assertThat(after.get("db")).isEqualTo(ENTRY);
        after.put("cache", LATER);

        FileLedger again = FileLedger.open(dir);
        assertThat(again.get("cache")).isEqualTo(LATER);
        assertThat(again.get("db")).isEqualTo(ENTRY);
        assertThat(again.get("web")).isEqualTo(ENTRY);
    }

    @Test
    void whatAnotherProcessAppends_isSeenAtTheNextRead_inTheFilesOrder() throws Exception {
        Path dir = TestDirs.fresh("ledger").resolve("ledger");
        FileLedger service = FileLedger.open(dir);
        FileLedger command = FileLedger.open(dir);
        service.put("db", ENTRY);
        assertThat(command.get("db")).isEqualTo(ENTRY);

        command.put("db", LATER);
        assertThat(service.get("db")).isEqualTo(LATER);
        service.put("web", ENTRY);
        assertThat(command.get("web")).isEqualTo(ENTRY);
        assertThat(command.get("db")).isEqualTo(LATER);
    }

    @Test
    void manyChanges_rewriteTheFile_toOneLinePerSecret_andAnotherReaderFollows() throws Exception {
        Path dir = TestDirs.fresh("ledger").resolve("ledger");
        FileLedger writer = FileLedger.open(dir);
        FileLedger reader = FileLedger.open(dir);
        for (int i = 1; i <= 10_050; i++) {
            writer.put("s" + (i % 3), new Ledger.Entry(Map.of("app", new Ledger.Delivery(i, "hmac-sha256:" + i, null)), null, "kw-v"));
        }
        assertThat(Files.readAllLines(dir.resolve(FileLedger.FILE)).size()).isLessThan(100);
        assertThat(reader.get("s0").version("app")).isEqualTo(10_050 - 10_050 % 3);
        assertThat(reader.get("s1").version("app")).isEqualTo(10_048);
        reader.put("s1", ENTRY);
        assertThat(FileLedger.open(dir).get("s1")).isEqualTo(ENTRY);
        assertThat(writer.get("s1")).isEqualTo(ENTRY);
    }

    @Test
    void lock_ofASecret_makesAnotherHolderWait_thatOfAnotherSecretDoesNot() throws Exception {
        Path dir = TestDirs.fresh("ledger").resolve("ledger");
        FileLedger service = FileLedger.open(dir);
        FileLedger command = FileLedger.open(dir); // a second process of the agent, here in this JVM
        java.util.concurrent.CountDownLatch took = new java.util.concurrent.CountDownLatch(1);
        try (java.io.Closeable held = service.lock("db")) {
            Thread t = new Thread(() -> {
                try (java.io.Closeable second = command.lock("db")) {
                    took.countDown();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            t.start();
            try (java.io.Closeable other = command.lock("web")) {
                assertThat(other).isNotNull();
            }
            assertThat(took.await(300, java.util.concurrent.TimeUnit.MILLISECONDS)).as("took db while it was held").isFalse();
        }
        assertThat(took.await(5, java.util.concurrent.TimeUnit.SECONDS)).as("took db once it was released").isTrue();
    }

    @Test
    void lock_isARecordLockThatAnotherProcessHonours() throws Exception {
        Path dir = TestDirs.fresh("ledger").resolve("ledger");
        FileLedger ledger = FileLedger.open(dir);
        ledger.lock("db").close(); // creates the lock file
        int slot = "db".hashCode() & 0x7fffffff;
        Process other = new ProcessBuilder("python3", "-c", String.join("\n",
                "import fcntl, os, sys, time",
                "f = open(sys.argv[1], 'r+')",
                "fcntl.lockf(f, fcntl.LOCK_EX, 1, int(sys.argv[2]), os.SEEK_SET)",
                "print('held', flush=True)",
                "time.sleep(1.5)"), dir.resolve(FileLedger.LOCK).toString(), String.valueOf(slot))
                .redirectErrorStream(true).start();
        assertThat(new java.io.BufferedReader(new java.io.InputStreamReader(other.getInputStream())).readLine()).isEqualTo("held");
        long t0 = System.nanoTime();
        try (java.io.Closeable held = ledger.lock("db")) {
            assertThat((System.nanoTime() - t0) / 1_000_000).as("ms waited for the other process").isGreaterThan(700);
        }
        other.waitFor();
    }

    @Test
    void file_holdsVersionsAndFingerprints_only() throws Exception {
        Path dir = TestDirs.fresh("ledger").resolve("ledger");
        FileLedger.open(dir).put("db", ENTRY);
        assertThat(Files.readString(dir.resolve(FileLedger.FILE))).contains("\"version\":3", "hmac-sha256:ab", "rotation-7",
                "\"vault\":\"kw-vault-1\"", "\"address\":\"file /srv/app/key\"");
    }
}
