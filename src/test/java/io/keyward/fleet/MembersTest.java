package io.keyward.fleet;

import static org.assertj.core.api.Assertions.assertThat;

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

/** Membership records in a real OpenBao: what each agent serves and when it was last heard of. */
@ExtendWith(VaultExtension.class)
final class MembersTest {

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

    @Test
    void register_heartbeat_serving_forget() throws Exception {
        Members a = new Members(store, state, clock, Duration.ZERO);
        Members b = new Members(store, state, clock, Duration.ZERO);
        a.register("host-a", Map.of("db", Set.of("app", "web"), "cache", Set.of()));
        b.register("host-b", Map.of("db", Set.of("app")));
        clock.advance(Duration.ofSeconds(30));
        b.heartbeat("host-b");
        store.write(state.child("members").child("broken"), SecretData.of("agent", "x"), OptionalInt.empty());

        assertThat(a.serving("db")).containsExactlyInAnyOrder(
                new Fleet.Member("host-a", Instant.parse("2026-05-04T10:00:00Z"), Set.of("app", "web")),
                new Fleet.Member("host-b", Instant.parse("2026-05-04T10:00:30Z"), Set.of("app")));
        assertThat(a.serving("cache")).as("a secret without targets here is not served here").isEmpty();
        assertThat(a.all()).extracting(Members.Record::agent).containsExactlyInAnyOrder("host-a", "host-b");

        b.forget("host-b");
        assertThat(a.serving("db")).extracting(Fleet.Member::agent).containsExactly("host-a");
    }

    @Test
    void reads_areReusedForAFewSeconds() throws Exception {
        Members reader = new Members(store, state, clock);
        new Members(store, state, clock).register("host-a", Map.of("db", Set.of("app")));
        assertThat(reader.serving("db")).hasSize(1);
        new Members(store, state, clock).register("host-b", Map.of("db", Set.of("app")));
        assertThat(reader.serving("db")).as("within 5 s: the read before").hasSize(1);
        clock.advance(Members.FRESH);
        assertThat(reader.serving("db")).hasSize(2);
    }
}
