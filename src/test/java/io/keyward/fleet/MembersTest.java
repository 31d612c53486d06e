package io.keyward.fleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keyward.audit.JsonAuditLog;
import io.keyward.rotation.Fingerprinter;
import io.keyward.rotation.Fleet;
import io.keyward.rotation.SecretData;
import io.keyward.rotation.SecretPath;
import io.keyward.testing.MutableClock;
import io.keyward.testing.TestDirs;
import io.keyward.testing.TestVault;
import io.keyward.testing.VaultExtension;
import io.keyward.vault.VaultClient;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Membership records in a real OpenBao: who each agent is, what it serves, when it was last heard of. */
@ExtendWith(VaultExtension.class)
final class MembersTest {

    private static final Duration HEARTBEAT = Duration.ofSeconds(30);
    private final MutableClock clock = new MutableClock(Instant.parse("2026-05-04T10:00:00Z"));
    private JsonAuditLog audit;
    private VaultClient store;
    private SecretPath state;

    @BeforeEach
    void setUp(TestVault vault) throws Exception {
        audit = JsonAuditLog.open(TestDirs.fresh("members").resolve("audit.jsonl"), "m", Clock.systemUTC());
        store = VaultClient.connect(vault.rootSettings(), audit, new Fingerprinter("members-test-key-0123456789".getBytes()),
                Clock.systemUTC());
        state = vault.uniquePath("state");
    }

    @AfterEach
    void tearDown() {
        store.close();
        audit.close();
    }

    private Members members(String agent, String instance, String host, long pid) {
        return new Members(store, state, clock, Duration.ZERO, new Members.Identity(agent, instance, host, pid, "1.0"));
    }

    private static Map<String, Members.Served> db(String... targets) {
        return Map.of("db", new Members.Served(Set.of(targets), "hash-1"));
    }

    @Test
    void register_heartbeat_serving_forget() throws Exception {
        Members a = members("host-a", "a1", "a.example", 1);
        Members b = members("host-b", "b1", "b.example", 2);
        a.register(Map.of("db", new Members.Served(Set.of("app", "web"), "hash-1"),
                "cache", new Members.Served(Set.of(), "hash-2")));
        b.register(db("app"));
        clock.advance(HEARTBEAT);
        b.heartbeat();
        store.write(state.child("members").child("broken"), SecretData.of("agent", "x"), OptionalInt.empty());

        assertThat(a.serving("db")).containsExactlyInAnyOrder(
                new Fleet.Member("host-a", Instant.parse("2026-05-04T10:00:00Z"), Set.of("app", "web"), "hash-1", clock.instant()),
                new Fleet.Member("host-b", Instant.parse("2026-05-04T10:00:30Z"), Set.of("app"), "hash-1", clock.instant()));
        assertThat(a.serving("cache")).as("a secret without targets here is not served here").isEmpty();
        Members.Record rb = a.all().stream().filter(r -> r.agent().equals("host-b")).findFirst().orElseThrow();
        assertThat(rb.host()).isEqualTo("b.example");
        assertThat(rb.version()).isEqualTo("1.0");
        assertThat(rb.started()).isEqualTo(Instant.parse("2026-05-04T10:00:00Z"));

        assertThat(b.forget("host-b")).isTrue();
        assertThat(b.forget("host-b")).as("forgetting twice").isFalse();
        assertThat(a.serving("db")).extracting(Fleet.Member::agent).containsExactly("host-a");
    }

    @Test
    void start_aSecondServiceWithTheSameAgentId_isRefused_namingTheFirst() throws Exception {
        members("host-a", "first", "a.example", 1).start(db("app"), HEARTBEAT);
        Members second = members("host-a", "second", "b.example", 2);

        assertThatThrownBy(() -> second.start(db("app"), HEARTBEAT)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("agent id host-a is in use by a keyward run on host a.example")
                .hasMessageContaining("started 2026-05-04T10:00:00Z").hasMessageContaining("give each host its own agent.id");

        clock.advance(HEARTBEAT.multipliedBy(3).plusSeconds(1));
        second.start(db("app"), HEARTBEAT); // the first one has been silent for three heartbeats: gone
    }

    @Test
    void start_afterTheServiceOnThisHostDied_orStoppedCleanly_goesAhead() throws Exception {
        long dead = ProcessHandle.current().pid() + 1_000_000;
        members("host-a", "first", "a.example", dead).start(db("app"), HEARTBEAT);
        Members second = members("host-a", "second", "a.example", dead + 1);
        second.start(db("app"), HEARTBEAT); // same host, and the first one's process is gone
        second.stopped();
        members("host-a", "third", "b.example", 3).start(db("app"), HEARTBEAT); // stopped cleanly: may start elsewhere
    }

    @Test
    void register_byACommand_leavesARunningServicesRecordAlone() throws Exception {
        Members service = members("host-a", "service", "a.example", ProcessHandle.current().pid());
        service.start(db("app", "web"), HEARTBEAT);
        members("host-a", "command", "a.example", 99).register(db("app"));
        assertThat(service.serving("db")).singleElement().extracting(Fleet.Member::targets)
                .isEqualTo(Set.of("app", "web"));
    }

    @Test
    void register_manySecrets_fitsVaultsLimits_andAHeartbeatWritesOnlyTheSmallRecord() throws Exception {
        Map<String, Members.Served> many = new java.util.TreeMap<>();
        for (int i = 0; i < 3000; i++) many.put("secret-" + i, new Members.Served(Set.of("app", "web"), "hash-" + (i % 7)));
        Members a = members("host-a", "a1", "a.example", 1);
        a.register(many);
        int servingVersion = store.metadata(state.child("serving").child("host-a")).orElseThrow().currentVersion();
        a.heartbeat();
        a.heartbeat();

        Members reader = members("reader", "r1", "r.example", 2);
        assertThat(reader.serving("secret-2999")).singleElement().isEqualTo(
                new Fleet.Member("host-a", clock.instant(), Set.of("app", "web"), "hash-" + (2999 % 7), clock.instant()));
        assertThat(reader.all().get(0).secrets()).hasSize(3000);
        assertThat(store.metadata(state.child("serving").child("host-a")).orElseThrow().currentVersion())
                .as("the served set is written again only when it changes").isEqualTo(servingVersion);
    }

    @Test
    void reads_areReusedForAFewSeconds() throws Exception {
        Members reader = new Members(store, state, clock, new Members.Identity("r", "r1", "r.example", 1, "1.0"));
        members("host-a", "a1", "a.example", 1).register(db("app"));
        assertThat(reader.serving("db")).hasSize(1);
        members("host-b", "b1", "b.example", 2).register(db("app"));
        assertThat(reader.serving("db")).as("within 5 s: the read before").hasSize(1);
        members("host-c", "c1", "c.example", 3).register(db("app"));
        assertThat(reader.servingNow("db")).as("read now, whatever was read before").hasSize(3);
        members("host-b", "b1", "b.example", 2).forget("host-c");
        assertThat(reader.serving("db")).as("the latest read is kept").hasSize(3);
        clock.advance(Members.FRESH);
        assertThat(reader.serving("db")).hasSize(2);
        assertThat(reader.serving("db")).allSatisfy(m -> assertThat(m.readAt()).as("when the records were read").isEqualTo(clock.instant()));
    }
}
