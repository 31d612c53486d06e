package io.keyward.rotation;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyward.audit.AuditChain;
import io.keyward.audit.JsonAuditLog;
import io.keyward.testing.FaultProxy;
import io.keyward.testing.FullDisk;
import io.keyward.testing.TestDirs;
import io.keyward.testing.TestVault;
import io.keyward.testing.VaultExtension;
import io.keyward.vault.VaultClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Rotations against the real OpenBao through a fault proxy, and with an audit file on a disk that
 * fills up: each completes once the fault is gone, the journal ends consistent, and the audit
 * trail has a line for every step (none missing, none for a step that did not happen).
 */
@ExtendWith(VaultExtension.class)
final class RotationUnderFaultsTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private RotationFixture f;
    private FaultProxy proxy;
    private final List<AutoCloseable> closing = new ArrayList<>();

    @BeforeEach
    void open(TestVault vault) throws Exception {
        f = RotationFixture.open(vault);
        proxy = FaultProxy.in(vault.address());
    }

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : closing) c.close();
        proxy.close();
        f.close();
    }

    private static boolean journalWrite(FaultProxy.Request r) {
        return r.writes() && r.path().contains("/journal/");
    }

    /** A rotator of agent "a" through the proxy, auditing into a file of its own. */
    private record Agent(Rotator rotator, JsonAuditLog audit) {
        List<JsonNode> lines() throws Exception {
            return Files.readAllLines(audit.file(), StandardCharsets.UTF_8).stream().map(JSON::readTree).toList();
        }

        /** The phases audited as journaled for one rotation ({@code rotation.<phase>}, outcome ok). */
        Set<String> steps(String rotationId) throws Exception {
            Set<String> out = new TreeSet<>();
            for (JsonNode l : lines()) {
                String phase = l.path("phase").asString();
                if (l.path("rotation_id").asString().equals(rotationId) && l.path("event").asString().equals("rotation." + phase)
                        && l.path("outcome").asString().equals("ok")) {
                    out.add(phase);
                }
            }
            return out;
        }

        long count(String event) throws Exception {
            return lines().stream().filter(l -> l.path("event").asString().equals(event)).count();
        }
    }

    private Agent agent(Path auditFile, Duration requestTimeout, Plugins.PhaseListener listener) throws Exception {
        JsonAuditLog audit = JsonAuditLog.open(auditFile, "a", Clock.systemUTC());
        VaultClient session = f.session(proxy.address(), audit, requestTimeout);
        closing.add(0, audit);
        closing.add(0, session);
        return new Agent(f.rotator("a", session, audit, listener), audit);
    }

    private Agent agent() throws Exception {
        return agent(TestDirs.fresh("faults").resolve("audit.jsonl"), Duration.ofSeconds(2), Plugins.PhaseListener.none());
    }

    /** An agent whose listener switches the proxy to {@code fault} when a rotation enters {@code at}. */
    private Agent faultAt(Phase at, FaultProxy.Mode fault, Duration requestTimeout) throws Exception {
        return agent(TestDirs.fresh("faults").resolve("audit.jsonl"), requestTimeout, (id, rotation, phase) -> {
            if (phase == at) proxy.mode(fault);
        });
    }

    /** Switches the proxy back to forwarding when {@code after} has passed since {@code from}. */
    private Thread restoreAt(Instant from, Duration after) {
        Thread t = new Thread(() -> {
            try {
                Thread.sleep(Math.max(0, after.minus(Duration.between(from, Instant.now())).toMillis()));
            } catch (InterruptedException e) {
                return;
            }
            proxy.mode(FaultProxy.Mode.FORWARD);
        });
        t.start();
        return t;
    }

    /** Resumes until the rotation completes or the deadline passes. */
    private static Outcome resumeUntilDone(Rotator r, SecretBinding b, Duration within) throws Exception {
        Instant end = Instant.now().plus(within);
        Outcome o = r.resume(b);
        while (!(o instanceof Outcome.Completed) && Instant.now().isBefore(end)) {
            Thread.sleep(500);
            o = r.resume(b);
        }
        return o;
    }

    @Test
    void anAnswerLostAfterTheJournalWriteLandedAtEveryPhase_isSettledAndAudited() throws Exception {
        Agent clean = agent();
        AtomicInteger writes = new AtomicInteger();
        proxy.dropAnswers(r -> {
            if (journalWrite(r)) writes.incrementAndGet();
            return false;
        }, 1);
        RotationFixture.Secret first = f.randomSecret("30d");
        Outcome o = clean.rotator().rotate(first.binding(), true, false, "manual");
        assertThat(o).isInstanceOf(Outcome.Completed.class);
        Set<String> phases = clean.steps(((Outcome.Completed) o).rotationId());
        assertThat(phases).contains("claimed", "staged", "promoted", "delivered", "retired");
        int total = writes.get();
        assertThat(total).isGreaterThanOrEqualTo(phases.size());

        for (int k = 1; k <= total; k++) {
            Agent a = agent();
            RotationFixture.Secret s = f.randomSecret("30d");
            AtomicInteger seen = new AtomicInteger();
            int drop = k;
            proxy.dropAnswers(r -> journalWrite(r) && seen.incrementAndGet() == drop, 1);
            int droppedBefore = proxy.answersDropped();
            Outcome done = a.rotator().rotate(s.binding(), true, false, "manual");
            if (!(done instanceof Outcome.Completed)) done = resumeUntilDone(a.rotator(), s.binding(), Duration.ofSeconds(20));
            assertThat(proxy.answersDropped()).as("journal write %d of %d", k, total).isEqualTo(droppedBefore + 1);
            assertThat(done).as("journal write %d of %d: %s", k, total, done.describe()).isInstanceOf(Outcome.Completed.class);
            String rotation = ((Outcome.Completed) done).rotationId();
            assertThat(a.steps(rotation)).as("journal write %d of %d", k, total).isEqualTo(phases);
            assertThat(a.count("journal.settled")).as("journal write %d of %d", k, total).isEqualTo(1);
            assertThat(a.lines().stream().filter(l -> l.path("event").asString().equals("journal.settled")).findFirst()
                    .orElseThrow().path("detail").asString()).startsWith("the write whose answer was lost landed as v");
            assertThat(f.rotator("check").journal(s.id()).orElseThrow().entry().phase()).isEqualTo(Phase.RETIRED);
            assertThat(s.target().holds()).isEqualTo(f.live(s).orElseThrow());
            assertThat(AuditChain.verify(List.of(a.audit().file())).intact()).isTrue();
        }
        Files.writeString(TestDirs.fresh("faults-lost-answers").resolve("summary.txt"), String.format(
                "lost answers: %d journal writes per rotation, each answer dropped once: %d faults, %d rotations completed,"
                        + " %d phases audited each, 0 audit lines missing%n", total, total, total, phases.size()));
    }

    @Test
    void anAnswerLostAndVaultGoneBeforeTheCheck_noStepIsWrittenOnTopUntilTheWriteIsSettled() throws Exception {
        Agent a = agent(TestDirs.fresh("faults").resolve("audit.jsonl"), Duration.ofSeconds(2), (id, rotation, phase) -> {
            if (phase == Phase.STAGED) proxy.dropAnswers(RotationUnderFaultsTest::journalWrite, 1, () -> proxy.mode(FaultProxy.Mode.REFUSE));
        });
        RotationFixture.Secret s = f.randomSecret("30d");
        Outcome o = a.rotator().rotate(s.binding(), true, false, "manual");
        assertThat(o).isInstanceOf(Outcome.Stopped.class);
        assertThat(proxy.answersDropped()).isEqualTo(1);
        Outcome again = a.rotator().resume(s.binding());
        assertThat(again).isInstanceOf(Outcome.Unavailable.class);
        assertThat(again.describe()).contains("is not read until the write of v").contains("whose answer was lost is settled");
        proxy.mode(FaultProxy.Mode.FORWARD);
        Outcome done = resumeUntilDone(a.rotator(), s.binding(), Duration.ofSeconds(20));
        assertThat(done).as(done.describe()).isInstanceOf(Outcome.Completed.class);
        List<JsonNode> settled = a.lines().stream().filter(l -> l.path("event").asString().equals("journal.settled")).toList();
        assertThat(settled).as("the lost write is settled once, as landed, before any step is written on top").hasSize(1);
        assertThat(settled.get(0).path("detail").asString()).startsWith("the write whose answer was lost landed as v");
        assertThat(a.steps(((Outcome.Completed) done).rotationId())).contains("claimed", "staged", "promoted", "retired");
        assertThat(s.target().holds()).isEqualTo(f.live(s).orElseThrow());
    }

    @Test
    void vaultDownForThirtySecondsMidRotation_theRotationCompletesAfterwards() throws Exception {
        Agent a = faultAt(Phase.PROMOTED, FaultProxy.Mode.REFUSE, Duration.ofSeconds(2));
        RotationFixture.Secret s = f.randomSecret("30d");
        Instant down = Instant.now();
        Outcome o = a.rotator().rotate(s.binding(), true, false, "manual");
        assertThat(o).isInstanceOf(Outcome.Stopped.class);
        assertThat(((Outcome.Stopped) o).reason()).contains("connection refused");
        Thread restore = restoreAt(down, Duration.ofSeconds(30));
        Outcome done = resumeUntilDone(a.rotator(), s.binding(), Duration.ofSeconds(60));
        restore.join();
        assertThat(Duration.between(down, Instant.now())).isGreaterThanOrEqualTo(Duration.ofSeconds(30));
        assertThat(done).isInstanceOf(Outcome.Completed.class);
        assertThat(a.steps(((Outcome.Completed) done).rotationId()))
                .contains("claimed", "staged", "promoted", "delivered", "retired");
        assertThat(s.target().holds()).isEqualTo(f.live(s).orElseThrow());
        assertThat(a.lines()).noneMatch(l -> l.path("outcome").asString().equals("unknown")); // refused: known not sent
    }

    @Test
    void aStallLongerThanTheRequestTimeout_isAuditedUnknownThenSettled() throws Exception {
        Agent a = faultAt(Phase.STAGED, FaultProxy.Mode.STALL, Duration.ofSeconds(1));
        RotationFixture.Secret s = f.randomSecret("30d");
        Instant stalled = Instant.now();
        Outcome o = a.rotator().rotate(s.binding(), true, false, "manual");
        assertThat(o).isInstanceOf(Outcome.Stopped.class);
        assertThat(((Outcome.Stopped) o).reason()).contains("timed out after 1 s without an answer");
        restoreAt(stalled, Duration.ofSeconds(3)).join();
        Outcome done = resumeUntilDone(a.rotator(), s.binding(), Duration.ofSeconds(20));
        assertThat(done).isInstanceOf(Outcome.Completed.class);
        assertThat(a.lines()).anyMatch(l -> l.path("event").asString().equals("vault.write")
                && l.path("outcome").asString().equals("unknown"));
        // the stalled write never reached Vault: the next read says so, and the step is journaled again
        assertThat(a.lines()).anyMatch(l -> l.path("event").asString().equals("journal.settled")
                && l.path("detail").asString().contains("did not land"));
        assertThat(a.steps(((Outcome.Completed) done).rotationId())).contains("claimed", "staged", "promoted", "retired");
    }

    @Test
    void anAuditFileThatCannotBeWritten_stopsTheRotation_untilItCanAgain() throws Exception {
        try (FullDisk disk = FullDisk.fresh("faults-audit")) {
            Agent a = agent(disk.dir().resolve("audit.jsonl"), Duration.ofSeconds(2), (id, rotation, phase) -> {
                if (phase == Phase.STAGED) {
                    try {
                        disk.fill();
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }
            });
            RotationFixture.Secret s = f.randomSecret("30d");
            Outcome o = a.rotator().rotate(s.binding(), true, false, "manual");
            // the audit file's last block may take a step or two more before the disk refuses
            assertThat(o).isInstanceOf(Outcome.Stopped.class);
            Phase stopped = ((Outcome.Stopped) o).phase();
            assertThat(stopped.terminal()).isFalse();
            assertThat(((Outcome.Stopped) o).reason()).contains("cannot be written (no space left on device)");
            String rotation = ((Outcome.Stopped) o).rotationId();
            assertThat(f.rotator("check").journal(s.id()).orElseThrow().entry().phase()).isEqualTo(stopped);
            assertThat(a.rotator().resume(s.binding())).isInstanceOf(Outcome.Unavailable.class);
            assertThat(f.rotator("check").journal(s.id()).orElseThrow().entry().phase()).isEqualTo(stopped);
            disk.free();
            Outcome done = a.rotator().resume(s.binding());
            assertThat(done).isInstanceOf(Outcome.Completed.class);
            assertThat(a.steps(rotation)).contains("claimed", "staged", "promoted", "delivered", "retired");
            assertThat(a.count("audit.resumed")).isEqualTo(1);
            assertThat(AuditChain.verify(List.of(a.audit().file())).intact()).isTrue();
        }
    }

    @Test
    void aTargetFolderMadeReadOnlyForAWhile_deliveryIsRetried_theOldKeyKept_andItCompletesAfter() throws Exception {
        try (FullDisk disk = FullDisk.forSecrets("faults-target")) {
            Path file = disk.dir().resolve("app.key");
            Plugins.Target target = f.fileTarget("app", file);
            Agent a = agent();
            RotationFixture.Secret s = f.randomSecret("30d");
            SecretBinding b = s.on(target);
            assertThat(a.rotator().rotate(b, true, false, "manual")).isInstanceOf(Outcome.Completed.class);
            String old = Files.readString(file);
            io.keyward.testing.Leaks.track(old);

            disk.readOnly(true);
            Outcome o = a.rotator().rotate(b, true, false, "manual");
            assertThat(o.describe()).contains("cannot write " + file + ": read-only file system");
            assertThat(Files.readString(file)).isEqualTo(old);
            assertThat(f.rotator("check").journal(s.id()).orElseThrow().entry().phase()).isEqualTo(Phase.PROMOTED);
            assertThat(a.rotator().resume(b).describe()).contains("read-only file system"); // tried again, still refused
            disk.readOnly(false);
            Outcome done = resumeUntilDone(a.rotator(), b, Duration.ofSeconds(20));
            assertThat(done).isInstanceOf(Outcome.Completed.class);
            assertThat(Files.readString(file)).isEqualTo(f.live(s).orElseThrow()).isNotEqualTo(old);
        }
    }

    @Test
    void aJournalThatCannotBeRead_isSaidSo_notReportedAsAStoppedStep() throws Exception {
        Agent a = agent();
        RotationFixture.Secret s = f.randomSecret("30d");
        proxy.mode(FaultProxy.Mode.REFUSE);
        Outcome o = a.rotator().rotate(s.binding(), true, false, "manual");
        assertThat(o).isInstanceOf(Outcome.Unavailable.class);
        assertThat(o.describe()).contains("could not read the journal: Vault read of ").contains("connection refused")
                .doesNotContain("stopped at");
        proxy.mode(FaultProxy.Mode.FORWARD);
    }
}
