package io.keyward.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keyward.rotation.AuditEvent;
import io.keyward.testing.FullDisk;
import io.keyward.testing.TestDirs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

final class JsonAuditLogTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private final Clock clock = Clock.fixed(Instant.parse("2026-03-01T10:00:00Z"), ZoneOffset.UTC);

    @Test
    void record_writesOneJsonLinePerEvent_inFieldOrder() throws Exception {
        Path file = TestDirs.fresh("audit").resolve("nested/audit.jsonl");
        try (JsonAuditLog log = JsonAuditLog.open(file, "agent-7", clock)) {
            log.record(AuditEvent.of("vault.read").path("secret/app").version(4).duration(Duration.ofMillis(12))
                    .fingerprint("hmac-sha256:abc").attribute("accessor", "acc-1").build());
            log.record(AuditEvent.of("vault.write").path("secret/app").outcome(AuditEvent.Outcome.CONFLICT).build());
        }
        List<String> lines = Files.readAllLines(file);
        assertThat(lines).hasSize(2);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-r-----");
        assertThat(lines.get(0)).isEqualTo("{\"time\":\"2026-03-01T10:00:00Z\",\"event\":\"vault.read\",\"agent\":\"agent-7\","
                + "\"path\":\"secret/app\",\"version\":4,\"outcome\":\"ok\",\"duration_ms\":12,"
                + "\"fingerprint\":\"hmac-sha256:abc\",\"accessor\":\"acc-1\",\"seq\":1,\"prev_hash\":\""
                + AuditChain.GENESIS + "\"}");
        JsonNode second = JSON.readTree(lines.get(1));
        assertThat(second.path("outcome").asString()).isEqualTo("conflict");
        assertThat(second.has("version")).isFalse();
    }

    /**
     * A full disk: a line that cannot be written is held and a step's announcement is refused
     * (naming the file and the cause); once there is room, the held line follows a line saying
     * how long the file took none, the refused one never appears, and the chain is intact.
     */
    @Test
    void aFullDisk_holdsLines_refusesSteps_andResumesWithTheChainIntact() throws Exception {
        try (FullDisk disk = FullDisk.fresh("audit-full")) {
            Path file = disk.dir().resolve("audit.jsonl");
            int n = 0; // the file's last block may still take a few lines
            try (JsonAuditLog log = JsonAuditLog.open(file, "a", clock)) {
                log.record(AuditEvent.of("before").build());
                disk.fill();
                while (log.blocked().isEmpty() && n < 1000) log.record(AuditEvent.of("line-" + ++n).build());
                assertThat(log.blocked()).hasValueSatisfying(why -> assertThat(why)
                        .contains("the audit file " + file + " cannot be written (no space left on device)"));
                assertThatThrownBy(() -> log.announce(AuditEvent.of("refused").outcome(AuditEvent.Outcome.PENDING).build()))
                        .isInstanceOf(io.keyward.rotation.AuditUnavailableException.class)
                        .hasMessageContaining("no space left on device").hasMessageContaining("steps wait until it can");
                disk.free();
                assertThat(log.blocked()).isEmpty();
                log.announce(AuditEvent.of("after").outcome(AuditEvent.Outcome.PENDING).build());
            }
            List<JsonNode> lines = Files.readAllLines(file).stream().map(JSON::readTree).toList();
            List<String> events = lines.stream().map(l -> l.path("event").asString()).toList();
            assertThat(events.subList(events.size() - 3, events.size())).containsExactly("audit.resumed", "line-" + n, "after");
            assertThat(events).doesNotContain("refused").hasSize(n + 3);
            JsonNode resumed = lines.get(events.size() - 3);
            assertThat(resumed.path("cause").asString()).isEqualTo("no space left on device");
            assertThat(resumed.path("held").asString()).isEqualTo("1");
            assertThat(AuditChain.verify(List.of(file)).intact()).isTrue();
        }
    }

    /** Two writers of one file (the service and a command beside it) interleave their lines in one unbroken chain. */
    @Test
    void twoWritersOfOneFile_keepOneChain() throws Exception {
        Path file = TestDirs.fresh("audit-two-writers").resolve("audit.jsonl");
        try (JsonAuditLog service = JsonAuditLog.open(file, "service", Clock.systemUTC());
             JsonAuditLog command = JsonAuditLog.open(file, "command", Clock.systemUTC())) {
            for (int i = 0; i < 50; i++) {
                service.record(AuditEvent.of("service-" + i).build());
                if (i % 3 == 0) command.record(AuditEvent.of("command-" + i).build());
            }
        }
        List<JsonNode> lines = Files.readAllLines(file).stream().map(JSON::readTree).toList();
        assertThat(lines).hasSize(67);
        assertThat(lines.stream().map(l -> l.path("seq").asLong()).toList())
                .isEqualTo(java.util.stream.LongStream.rangeClosed(1, 67).boxed().toList());
        assertThat(AuditChain.verify(List.of(file)).intact()).isTrue();
        assertThat(AuditChain.rolledFiles(file)).as("the lock file is not taken for a rolled file").isEmpty();
    }

    /**
     * A command opened while the service writes (the service's line lands between the command's
     * reading the last line and its first write) still goes on from the line now last.
     */
    @Test
    void aCommandOpenedWhileTheServiceWrites_goesOnFromTheLastLine() throws Exception {
        Path file = TestDirs.fresh("audit-open-while-writing").resolve("audit.jsonl");
        java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
        int commands = 300;
        long serviceLines;
        try (JsonAuditLog service = JsonAuditLog.open(file, "service", Clock.systemUTC())) {
            java.util.concurrent.CompletableFuture<Long> writing = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                long n = 0;
                while (!done.get()) {
                    service.record(AuditEvent.of("service").build());
                    n++;
                }
                return n;
            });
            try {
                for (int i = 0; i < commands; i++) {
                    try (JsonAuditLog command = JsonAuditLog.open(file, "command", Clock.systemUTC())) {
                        command.record(AuditEvent.of("command").build());
                    }
                }
            } finally {
                done.set(true);
            }
            serviceLines = writing.get(30, java.util.concurrent.TimeUnit.SECONDS);
        }
        AuditChain.Report report = AuditChain.verify(List.of(file));
        assertThat(report.problem()).isEmpty();
        assertThat(report.lines()).isEqualTo(serviceLines + commands);
    }

    /** A thread interrupted while it writes a line (a pool shutting down) does not close the file for the others. */
    @Test
    void anInterruptedWriter_writesItsLine_andTheFileStaysOpen() throws Exception {
        Path file = TestDirs.fresh("audit").resolve("audit.jsonl");
        try (JsonAuditLog log = JsonAuditLog.open(file, "a", clock)) {
            Thread.currentThread().interrupt();
            try {
                log.record(AuditEvent.of("interrupted").build());
            } finally {
                assertThat(Thread.interrupted()).isTrue();
            }
            assertThat(log.blocked()).isEmpty();
            log.record(AuditEvent.of("after").build());
        }
        assertThat(Files.readAllLines(file)).extracting(l -> JSON.readTree(l).path("event").asString())
                .containsExactly("interrupted", "after");
    }

    @Test
    void reopen_appends() throws Exception {
        Path file = TestDirs.fresh("audit").resolve("audit.jsonl");
        for (int i = 0; i < 2; i++) {
            try (JsonAuditLog log = JsonAuditLog.open(file, "a", clock)) {
                log.record(AuditEvent.of("e" + i).build());
            }
        }
        assertThat(Files.readAllLines(file)).hasSize(2);
    }

    @Test
    void auditKey_isCreatedOwnerOnly_thenReused() throws Exception {
        Path key = TestDirs.fresh("key").resolve("sub/audit-hmac.key");
        byte[] first = AuditKey.loadOrCreate(key, new SecureRandom());
        byte[] again = AuditKey.loadOrCreate(key, new SecureRandom());

        assertThat(first).hasSize(32).isEqualTo(again);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key))).isEqualTo("rw-------");
    }

    @Test
    void auditKey_tooShortOrNotBase64_isRefused() throws Exception {
        Path dir = TestDirs.fresh("key");
        Path shortKey = Files.writeString(dir.resolve("short"), "AAAA");
        Path garbage = Files.writeString(dir.resolve("garbage"), "not base64 at all!");
        assertThatThrownBy(() -> AuditKey.loadOrCreate(shortKey, new SecureRandom()))
                .hasMessageContaining("is 3 bytes; it needs 16 or more");
        assertThatThrownBy(() -> AuditKey.loadOrCreate(garbage, new SecureRandom()))
                .hasMessageContaining("is not base64");
    }
}
