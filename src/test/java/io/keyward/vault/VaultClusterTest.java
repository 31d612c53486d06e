package io.keyward.vault;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyward.rotation.CasConflictException;
import io.keyward.rotation.SecretData;
import io.keyward.rotation.SecretPath;
import io.keyward.testing.LocalCluster;
import io.keyward.testing.TestDirs;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The adapter against a real three-node OpenBao raft cluster: a standby serves reads from its own,
 * possibly older, state, and a killed leader leaves the cluster without an active node for a while.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class) // a standby first, before a kill moves the leader
final class VaultClusterTest {

    private static LocalCluster cluster;

    @BeforeAll
    static void start() throws Exception {
        cluster = LocalCluster.start(3, TestDirs.fresh("cluster"));
    }

    @AfterAll
    static void stop() {
        if (cluster != null) cluster.close();
    }

    /** Without the index, a standby checks a check-and-set against its own older state too, and refuses it. */
    @Test
    @Order(1)
    void throughAStandby_everyReadShowsTheWritesMadeBefore() throws Exception {
        int standby = cluster.standby();
        List<String> stale = new ArrayList<>();
        try (Connected c = Connected.through(cluster.address(standby), cluster.via(standby), s -> s)) {
            SecretPath path = cluster.via(standby).uniquePath("journal");
            assertThat(c.client.node().active()).as("the node the client talks to is a standby").isFalse();
            for (int v = 1; v <= 25; v++) {
                int written;
                try {
                    written = c.client.write(path, SecretData.of(Map.of("n", Integer.toString(v))), OptionalInt.of(v - 1));
                } catch (CasConflictException e) { // the standby checked the version against its older state
                    stale.add("the write of v" + v + " with check-and-set " + (v - 1) + " was refused");
                    break;
                }
                int read = c.client.read(path).map(x -> x.version()).orElse(0);
                int current = c.client.metadata(path).map(m -> m.currentVersion()).orElse(0);
                if (read != written || current != written) stale.add("wrote v" + written + ", read v" + read + ", metadata v" + current);
            }
            assertThat(c.client.node().describe()).as("what keyward check says of the node")
                    .startsWith("a standby of a cluster whose active node is " + cluster.address(cluster.leader()))
                    .contains("sends X-Vault-Index");
        }

        assertThat(stale).as("reads through the standby that showed less than was written").isEmpty();
    }

    @Test
    @Order(2)
    void aKilledLeader_isAnOutageToWaitFor_andWritesGoOnOnceANewOneIsElected() throws Exception {
        int standby = cluster.standby();
        int leader = cluster.leader();
        List<String> fatal = new ArrayList<>();
        int outages = 0;
        try (Connected c = Connected.through(cluster.address(standby), cluster.via(standby), s -> s)) {
            SecretPath path = cluster.via(standby).uniquePath("during-election");
            cluster.kill(leader);
            long until = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            boolean written = false;
            while (!written && System.nanoTime() < until) {
                try {
                    c.client.write(path, SecretData.of(Map.of("n", "1")), OptionalInt.empty());
                    written = true;
                } catch (VaultAccessException e) {
                    outages++;
                    if (!e.retryable()) fatal.add(e.getMessage());
                    Thread.sleep(250);
                }
            }
            assertThat(written).as("a write through the standby once a leader was elected").isTrue();
        } finally {
            cluster.restart(leader);
        }

        assertThat(outages).as("failed tries while the cluster had no leader").isPositive();
        assertThat(fatal).as("failures during the election taken as ones waiting cannot mend").isEmpty();
    }
}
