package io.keyward.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keyward.audit.JsonAuditLog;
import io.keyward.generate.Generators;
import io.keyward.policy.Policy;
import io.keyward.rotation.Fingerprinter;
import io.keyward.rotation.Phase;
import io.keyward.rotation.Plugins;
import io.keyward.rotation.Rotator;
import io.keyward.rotation.SecretBinding;
import io.keyward.rotation.SecretData;
import io.keyward.rotation.SecretPath;
import io.keyward.testing.Leaks;
import io.keyward.testing.TestDirs;
import io.keyward.testing.TestVault;
import io.keyward.testing.VaultExtension;
import io.keyward.vault.VaultClient;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Quartz scheduling of real rotations against OpenBao, on the real clock, with short intervals. */
@ExtendWith(VaultExtension.class)
final class RotationSchedulerTest {

    private TestVault vault;
    private VaultClient store;
    private JsonAuditLog audit;
    private Rotator rotator;
    private RotationScheduler scheduler;
    private final List<String> delivered = new CopyOnWriteArrayList<>();

    @BeforeEach
    void setUp(TestVault vault) throws Exception {
        this.vault = vault;
        Fingerprinter fp = new Fingerprinter("scheduler-test-key-0123456789".getBytes());
        audit = JsonAuditLog.open(TestDirs.fresh("schedule").resolve("audit.jsonl"), "sched", Clock.systemUTC());
        store = VaultClient.connect(vault.rootSettings(), audit, fp, Clock.systemUTC());
        rotator = Rotator.builder(store, new Rotator.Settings(vault.uniquePath("state"), "sched-agent", Duration.ofSeconds(30)))
                .audit(audit, fp).waits(d -> Thread.sleep(d.toMillis()), () -> 0.5).build();
        scheduler = new RotationScheduler(rotator, Clock.systemUTC(), () -> 0.0, "sched-agent", 4);
    }

    @AfterEach
    void tearDown() throws Exception {
        scheduler.close();
        store.close();
        audit.close();
    }

    @Test
    void missingSecret_isCreatedAtOnce_andItsNextRunFollowsTheSchedule() throws Exception {
        SecretBinding b = binding("new", "30d", "0s");
        scheduler.start(Map.of(b.id(), b));

        await().atMost(Duration.ofSeconds(20)).until(() -> store.read(b.livePath()).isPresent());
        await().atMost(Duration.ofSeconds(10)).until(() -> scheduler.nextRun(b.id())
                .map(t -> t.isAfter(Instant.now().plus(Duration.ofDays(29)))).orElse(false));
        assertThat(delivered).hasSize(1);
    }

    @Test
    void graceWait_endsWithRetirementAtItsTime() throws Exception {
        SecretBinding b = binding("grace", "30d", "2s");
        assertThat(rotator.rotate(b, true, false, "test")).isInstanceOf(io.keyward.rotation.Outcome.Completed.class);
        assertThat(rotator.rotate(b, true, false, "test")).isInstanceOf(io.keyward.rotation.Outcome.Waiting.class);
        scheduler.start(Map.of(b.id(), b));

        assertThat(rotator.journal(b.id()).orElseThrow().entry().phase()).isEqualTo(Phase.DELIVERED);
        Instant retireAfter = rotator.journal(b.id()).orElseThrow().entry().retireAfter();
        await().atMost(Duration.ofSeconds(20)).until(() -> rotator.journal(b.id())
                .map(j -> j.entry().phase() == Phase.RETIRED).orElse(false));
        Instant retired = rotator.journal(b.id()).orElseThrow().entry().phaseTimes().get("retired");
        assertThat(retired).isAfterOrEqualTo(retireAfter);
    }

    @Test
    void existingSecret_isScheduledAtItsDueTime_notBefore() throws Exception {
        SecretBinding b = binding("existing", "1h", "0s");
        store.write(b.livePath(), SecretData.of("password", Leaks.secret("old")), java.util.OptionalInt.empty());
        Instant created = rotator.lastRotated(b).orElseThrow();
        scheduler.start(Map.of(b.id(), b));

        assertThat(scheduler.nextRun(b.id())).hasValueSatisfying(t ->
                assertThat(t).isBetween(created.plus(Duration.ofHours(1)).minusSeconds(1),
                        created.plus(Duration.ofHours(1)).plusSeconds(1)));
        Thread.sleep(300);
        assertThat(delivered).as("the watch delivers the existing version at once").containsExactly(b.id() + "@1");
        assertThat(scheduler.runs()).as("no rotation before it is due").isZero();
    }

    /** A check that finds the secret not due plans its next run from what it read: one metadata and one journal read. */
    @Test
    void aRunThatIsNotDue_plansTheNextFromWhatItRead_withoutReadingAgain() throws Exception {
        SecretBinding b = binding("notdue", "1h", "0s");
        store.write(b.livePath(), SecretData.of("password", Leaks.secret("current")), java.util.OptionalInt.empty());
        Instant created = rotator.lastRotated(b).orElseThrow();
        long before = reads(b);
        scheduler.start(Map.of(b.id(), b), Duration.ZERO);

        await().atMost(Duration.ofSeconds(20)).until(() -> scheduler.runs() == 1 && scheduler.nextRun(b.id())
                .map(t -> t.isAfter(Instant.now().plus(Duration.ofMinutes(30)))).orElse(false));
        assertThat(scheduler.nextRun(b.id())).hasValueSatisfying(t ->
                assertThat(t).isBetween(created.plus(Duration.ofHours(1)).minusSeconds(1),
                        created.plus(Duration.ofHours(1)).plusSeconds(1)));
        assertThat(reads(b) - before).as("metadata and journal reads of the run").isEqualTo(2);
    }

    /** Metadata reads of the secret and reads of its journal, from the audit file. */
    private long reads(SecretBinding b) throws Exception {
        String journal = "/journal/" + b.id() + "\"";
        try (var lines = java.nio.file.Files.lines(audit.file())) {
            return lines.filter(l -> l.contains("\"event\":\"vault.metadata.read\"") && l.contains("\"path\":\"" + b.livePath() + "\"")
                    || l.contains("\"event\":\"vault.read\"") && l.contains(journal)).count();
        }
    }

    @Test
    void reschedule_addsNewSecrets_andDropsRemovedOnes() throws Exception {
        SecretBinding first = binding("first", "30d", "0s");
        scheduler.start(Map.of(first.id(), first));
        await().atMost(Duration.ofSeconds(20)).until(() -> store.read(first.livePath()).isPresent());

        SecretBinding second = binding("second", "30d", "0s");
        scheduler.reschedule(Map.of(second.id(), second));

        await().atMost(Duration.ofSeconds(20)).until(() -> store.read(second.livePath()).isPresent());
        assertThat(scheduler.nextRun(first.id())).isEmpty();
        assertThat(scheduler.nextRun(second.id())).isPresent();
        assertThat(scheduler.running()).isTrue();
    }

    @Test
    void theWatch_deliversAVersionWrittenInVaultBySomeoneElse() throws Exception {
        SecretBinding b = binding("watched", "30d", "0s", "1s");
        scheduler.start(Map.of(b.id(), b));
        await().atMost(Duration.ofSeconds(20)).until(() -> delivered.contains(b.id() + "@1"));

        store.write(b.livePath(), SecretData.of("password", Leaks.secret("pasted")), java.util.OptionalInt.of(1));

        await().atMost(Duration.ofSeconds(20)).until(() -> delivered.contains(b.id() + "@2"));
        Thread.sleep(2_500);
        assertThat(delivered).as("each version once").containsExactly(b.id() + "@1", b.id() + "@2");
    }

    private SecretBinding binding(String name, String every, String grace) throws Exception {
        return binding(name, every, grace, "5m");
    }

    private SecretBinding binding(String name, String every, String grace, String watch) throws Exception {
        String id = vault.uniqueName(name);
        SecretPath path = vault.uniquePath(name);
        Policy p = Policy.parse("sched.yaml", String.join("\n",
                "secrets:",
                "  - id: " + id,
                "    path: " + path.path(),
                "    fields: [password]",
                "    generator: { type: random, length: 20 }",
                "    schedule: { every: " + every + " }",
                "    grace: " + grace,
                "    watch: " + watch,
                ""));
        Policy.SecretPolicy sp = p.secrets().get(0);
        Plugins.Generator g = new Generators(new SecureRandom(), Map.of()).generator(sp).orElseThrow();
        Plugins.Target t = new Plugins.Target() {
            @Override
            public String id() {
                return "memory";
            }

            @Override
            public void deliver(String secretId, int version, SecretData value) throws java.io.IOException {
                delivered.add(secretId + "@" + version);
            }
        };
        return new SecretBinding(sp, new io.keyward.rotation.KeySource.Generated(() -> Leaks.track(g.generate()),
                Optional.empty()), List.of(), List.of(t));
    }
}
