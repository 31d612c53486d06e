package io.keyward.crash;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyward.testing.KeywardProcess;
import io.keyward.testing.LocalCluster;
import io.keyward.testing.OutsideConsumer;
import io.keyward.testing.TestDirs;
import io.keyward.testing.TestVault;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Vault as production runs it: a three-node OpenBao raft cluster whose leader is SIGKILLed three
 * times while two hosts rotate and watch their seven secrets, one host pointed at a standby, the
 * other at the node that leads at first (so it meets a node that is down, then one that comes back
 * sealed, then a standby); at each kill one of the services is SIGKILLed too and started again, so
 * that it logs in and registers during the election. Each election is an outage to wait for:
 * neither service exits, no application reads a revoked key, every file ends on the live value,
 * no check-and-set is lost to a standby's older state, and every journal version in Vault has its
 * audit lines: announced before, and its write audited {@code ok} or {@code unknown}, never failed
 * ({@link JournalTrail}). {@code -Dcluster.seed=S} replays the kill times.
 */
final class ClusterFailoverTest {

    private static final int KILLS = 3;
    private static final List<String> HOSTS = List.of("on-standby", "on-leader");

    @Test
    void leaderKilledThreeTimes_servicesWaitThroughEachElection_andNoApplicationReadsARevokedKey() throws Exception {
        Path work = TestDirs.credentials("cluster-failover");
        Path logs = TestDirs.fresh("cluster-failover");
        Path issuer = Files.createDirectories(work.resolve("issuer"));
        long seed = Long.getLong("cluster.seed", System.nanoTime());
        Random random = new Random(seed);
        try (LocalCluster cluster = LocalCluster.start(3, work.resolve("raft"))) {
            int first = cluster.leader();
            Map<String, Integer> node = Map.of("on-standby", cluster.standby(), "on-leader", first);
            TestVault admin = cluster.via(first);
            List<KeywardProcess> services = new ArrayList<>();
            List<OutsideConsumer> apps = new ArrayList<>();
            List<String> exits = new ArrayList<>();
            long outageMs = 0;
            long t0 = System.nanoTime();
            try {
                for (String host : HOSTS) {
                    Path files = Files.createDirectories(work.resolve("files-" + host));
                    apps.add(OutsideConsumer.start(issuer, SevenSecrets.consumed(files), 5, logs.resolve(host)));
                    Path config = SevenSecrets.config(work, logs, host, cluster.address(node.get(host)).toString(),
                            "cluster-" + host, SevenSecrets.policy(work, files, "cluster/" + host));
                    KeywardProcess service = new KeywardProcess(host, config, logs,
                            Map.of("VAULT_TOKEN", admin.rootToken(), "ISSUER_STATE", issuer.toString()));
                    services.add(service);
                    service.start();
                }
                for (KeywardProcess s : services) s.awaitReady(120);
                for (int k = 0; k < KILLS; k++) {
                    Thread.sleep(6000 + random.nextInt(10_000));
                    int leader = cluster.leader();
                    long o = System.nanoTime();
                    cluster.kill(leader);
                    KeywardProcess restarted = services.get(k % services.size());
                    restarted.kill(); // a host that starts while the cluster elects its leader
                    restarted.start();
                    Thread.sleep(12_000);
                    cluster.restart(leader);
                    cluster.leader();
                    outageMs += (System.nanoTime() - o) / 1_000_000;
                    for (KeywardProcess s : services) {
                        if (!s.alive()) exits.add(s.name() + " exited after kill " + (k + 1) + ": " + s.tail());
                    }
                    if (!exits.isEmpty()) break;
                }
                admin = cluster.via(cluster.leader());
                for (int i = 0; i < HOSTS.size() && exits.isEmpty(); i++) {
                    String host = HOSTS.get(i);
                    awaitSecondVersions(admin, host);
                    SevenSecrets.awaitSettled(admin, "cluster-" + host, "cluster/" + host, work.resolve("files-" + host), services.get(i));
                }
            } finally {
                for (KeywardProcess s : services) s.close();
            }
            SevenSecrets.trackKeys(issuer);
            long reads = 0;
            long revoked = 0;
            List<String> seen = new ArrayList<>();
            for (OutsideConsumer app : apps) {
                OutsideConsumer.Figures f = app.stop();
                reads += f.reads();
                revoked += f.revokedReads();
                seen.add(f.toString());
            }
            List<String> off = new ArrayList<>();
            int versions = 0;
            int conflicts = 0;
            List<String> trail = new ArrayList<>();
            List<String> untrue = new ArrayList<>();
            for (int i = 0; i < HOSTS.size(); i++) {
                String host = HOSTS.get(i);
                JournalTrail.Found found = JournalTrail.check(admin, "cluster-" + host, SevenSecrets.IDS,
                        logs.resolve("audit-" + host + ".jsonl"));
                trail.add(host + ": " + found);
                untrue.addAll(found.problems());
                off.addAll(SevenSecrets.offLive(admin, "cluster-" + host, "cluster/" + host, work.resolve("files-" + host)));
                for (String id : SevenSecrets.IDS) {
                    versions += SevenSecrets.live(admin, "cluster/" + host + "/" + id).path("metadata").path("version").asInt();
                }
                conflicts += (int) services.get(i).log().lines()
                        .filter(l -> l.contains("check-and-set conflict")).count();
            }
            String figures = String.format("cluster: leader_kills=%d hosts=%d reads=%d revoked_reads=%d versions=%d"
                    + " cas_conflicts=%d exits=%d files_off_live=%d outage_ms=%d seconds=%d seed=%d %s", KILLS, HOSTS.size(),
                    reads, revoked, versions, conflicts, exits.size(), off.size(), outageMs,
                    (System.nanoTime() - t0) / 1_000_000_000L, seed, trail);
            System.out.println(figures);
            Files.writeString(logs.resolve("summary.txt"), figures + "\n" + String.join("\n", seen) + "\n"
                    + String.join("\n", off) + "\n" + String.join("\n", exits) + "\n" + String.join("\n", untrue) + "\n");
            assertThat(exits).as("services that exited during a failover").isEmpty();
            assertThat(revoked).as("reads of a revoked key: " + seen).isZero();
            assertThat(off).as("files not on Vault's live value at the end").isEmpty();
            assertThat(versions).as("every secret rotated twice: " + figures)
                    .isGreaterThanOrEqualTo(2 * HOSTS.size() * SevenSecrets.IDS.size());
            assertThat(untrue).as("journal versions whose audit trail is missing or untrue: " + trail).isEmpty();
            assertThat(conflicts).as("check-and-set conflicts, with one agent per journal: " + figures).isZero();
        }
    }

    /** Waits (at most 120 s) until every secret of a host has a second version: rotations went on after the kills. */
    private static void awaitSecondVersions(TestVault admin, String host) throws InterruptedException {
        long until = System.nanoTime() + 120_000_000_000L;
        while (System.nanoTime() < until) {
            if (SevenSecrets.IDS.stream().allMatch(id -> SevenSecrets.live(admin, "cluster/" + host + "/" + id)
                    .path("metadata").path("version").asInt() >= 2)) return;
            Thread.sleep(500);
        }
    }
}
