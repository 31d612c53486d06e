package io.keyward.crash;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyward.rotation.Phase;
import io.keyward.testing.KeywardProcess;
import io.keyward.testing.LocalCluster;
import io.keyward.testing.OutsideConsumer;
import io.keyward.testing.TestDirs;
import io.keyward.testing.TestVault;
import java.io.IOException;
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
 * that it logs in and registers during the election. Then the leader is killed once right after a
 * rotation (of either host) enters each phase, so that each step meets an election; the node
 * comes back as soon as another leads. Each election is an outage to wait for: neither service
 * exits, no application reads a revoked key or goes back to a key it held before, every file ends on the live value,
 * no check-and-set is lost to a standby's older state, and every journal version in Vault has its
 * audit lines: announced before, and its write audited {@code ok} or {@code unknown}, never failed
 * ({@link JournalTrail}). {@code -Dcluster.seed=S} replays the kill times.
 */
final class ClusterFailoverTest {

    private static final int KILLS = 3;
    private static final List<String> HOSTS = List.of("on-standby", "on-leader");
    /** The leader is killed once right after a rotation enters each of these phases. */
    private static final List<Phase> BOUNDARIES = List.of(Phase.CLAIMED, Phase.STAGED, Phase.APPLIED, Phase.VERIFIED,
            Phase.PROMOTED, Phase.DELIVERED, Phase.RETIRED);

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
            List<String> boundaries = new ArrayList<>();
            List<String> missed = new ArrayList<>();
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
                for (Phase boundary : BOUNDARIES) {
                    if (!exits.isEmpty()) break;
                    String met = awaitBoundary(logs, boundary);
                    if (met == null) {
                        missed.add(boundary.word());
                        continue;
                    }
                    int leader = cluster.leader();
                    long o = System.nanoTime();
                    cluster.kill(leader); // the step after this boundary meets an election
                    boundaries.add(boundary.word() + "@" + met);
                    cluster.leader();
                    cluster.restart(leader);
                    outageMs += (System.nanoTime() - o) / 1_000_000;
                    for (KeywardProcess s : services) {
                        if (!s.alive()) exits.add(s.name() + " exited after the kill at " + boundary.word() + ": " + s.tail());
                    }
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
            long backward = 0;
            List<String> seen = new ArrayList<>();
            for (OutsideConsumer app : apps) {
                OutsideConsumer.Figures f = app.stop();
                reads += f.reads();
                revoked += f.revokedReads();
                backward += f.backward();
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
            String figures = String.format("cluster: leader_kills=%d hosts=%d reads=%d revoked_reads=%d backward=%d versions=%d"
                    + " cas_conflicts=%d exits=%d files_off_live=%d outage_ms=%d seconds=%d seed=%d boundaries=%s %s",
                    KILLS + boundaries.size(), HOSTS.size(), reads, revoked, backward, versions, conflicts, exits.size(),
                    off.size(), outageMs, (System.nanoTime() - t0) / 1_000_000_000L, seed, boundaries, trail);
            System.out.println(figures);
            Files.writeString(logs.resolve("summary.txt"), figures + "\n" + String.join("\n", seen) + "\n"
                    + String.join("\n", off) + "\n" + String.join("\n", exits) + "\n" + String.join("\n", untrue) + "\n");
            assertThat(exits).as("services that exited during a failover").isEmpty();
            assertThat(revoked).as("reads of a revoked key: " + seen).isZero();
            assertThat(backward).as("files that went back to a key they held before: " + seen).isZero();
            assertThat(missed).as("phase boundaries no rotation reached within 90 s: " + figures).isEmpty();
            assertThat(off).as("files not on Vault's live value at the end").isEmpty();
            assertThat(versions).as("every secret rotated twice: " + figures)
                    .isGreaterThanOrEqualTo(2 * HOSTS.size() * SevenSecrets.IDS.size());
            assertThat(untrue).as("journal versions whose audit trail is missing or untrue: " + trail).isEmpty();
            assertThat(conflicts).as("check-and-set conflicts, with one agent per journal: " + figures).isZero();
        }
    }

    /**
     * Waits (at most 90 s) for the next audit line, on either host, of a rotation entering {@code
     * phase}: the line comes right after the journal write, so a kill then lands on the next step.
     * Returns the host and secret, or null.
     */
    private static String awaitBoundary(Path logs, Phase phase) throws IOException, InterruptedException {
        String event = "\"event\":\"rotation." + phase.word() + "\"";
        Map<String, Long> from = new java.util.HashMap<>();
        for (String host : HOSTS) {
            Path audit = logs.resolve("audit-" + host + ".jsonl");
            from.put(host, Files.exists(audit) ? Files.size(audit) : 0);
        }
        long until = System.nanoTime() + 90_000_000_000L;
        while (System.nanoTime() < until) {
            for (String host : HOSTS) {
                Path audit = logs.resolve("audit-" + host + ".jsonl");
                long size = Files.exists(audit) ? Files.size(audit) : 0;
                if (size <= from.get(host)) continue;
                byte[] added = new byte[(int) (size - from.get(host))];
                try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(audit.toFile(), "r")) {
                    f.seek(from.get(host));
                    f.readFully(added);
                }
                int end = added.length - 1;
                while (end >= 0 && added[end] != '\n') end--;
                if (end < 0) continue; // no whole line yet
                from.put(host, from.get(host) + end + 1);
                for (String line : new String(added, 0, end, java.nio.charset.StandardCharsets.UTF_8).split("\n")) {
                    if (line.contains(event) && line.contains("\"outcome\":\"ok\"")) {
                        return host + ":" + line.replaceAll(".*\"path\":\"([^\"]*)\".*", "$1");
                    }
                }
            }
            Thread.sleep(2);
        }
        return null;
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
