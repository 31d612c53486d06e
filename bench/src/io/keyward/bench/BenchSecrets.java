package io.keyward.bench;

import io.keyward.rotation.AuditLog;
import io.keyward.rotation.Fingerprinter;
import io.keyward.rotation.SecretData;
import io.keyward.rotation.SecretPath;
import io.keyward.testing.TestVault;
import io.keyward.vault.VaultClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/** The benches' secrets: PREFIX/s0..sN-1 with a random password each, and a policy delivering each to a file. */
final class BenchSecrets {

    private BenchSecrets() {}

    /** Writes {@code secrets} secrets under {@code prefix} with {@code threads} writers; prints how long it took. */
    static void seed(TestVault vault, String prefix, int secrets, int threads) throws Exception {
        long t0 = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try (VaultClient client = VaultClient.connect(vault.rootSettings(), AuditLog.none(),
                new Fingerprinter("bench-seed-key-0123456789".getBytes(StandardCharsets.UTF_8)), Clock.systemUTC())) {
            AtomicInteger next = new AtomicInteger();
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                fs.add(pool.submit(() -> {
                    for (int i = next.getAndIncrement(); i < secrets; i = next.getAndIncrement()) {
                        client.write(SecretPath.of("secret", prefix + "/s" + i), SecretData.of("password", "pw-" + i + "-"
                                + Long.toHexString(Double.doubleToLongBits(Math.random()))), OptionalInt.empty());
                    }
                    return null;
                }));
            }
            for (Future<?> f : fs) f.get();
        } finally {
            pool.shutdownNow();
        }
        System.out.printf("seeded %d secrets in %.1f s%n", secrets, (System.nanoTime() - t0) / 1e9);
    }

    /** KEYWARD_JAVA_OPTS from systemd/keyward.service (the flags keyward runs with), unless BENCH_JVM says otherwise. */
    /** Deletes a folder and everything in it; nothing if it is not there. */
    static void deleteTree(Path dir) throws java.io.IOException {
        if (!java.nio.file.Files.exists(dir)) return;
        try (java.util.stream.Stream<Path> s = java.nio.file.Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) java.nio.file.Files.delete(p);
        }
    }

    static List<String> unitJvmFlags() throws java.io.IOException {
        String override = System.getProperty("bench.jvm");
        if (override != null && !override.isBlank()) return java.util.Arrays.asList(override.trim().split("\\s+"));
        for (String line : java.nio.file.Files.readAllLines(Path.of("systemd/keyward.service"))) {
            if (line.startsWith("Environment=\"KEYWARD_JAVA_OPTS=")) {
                return java.util.Arrays.asList(line.substring("Environment=\"KEYWARD_JAVA_OPTS=".length(), line.length() - 1)
                        .split("\\s+"));
            }
        }
        throw new IllegalStateException("no KEYWARD_JAVA_OPTS in systemd/keyward.service");
    }

    /**
     * Samples, every 50 ms until stopped, the TCP connections a process (or its children) holds
     * to a port, as {@code ss -tnp} lists them; {@link #peak()} is the most seen at once.
     */
    static final class Connections implements AutoCloseable {
        private final Thread sampler;
        private volatile boolean stop;
        private volatile int peak;

        Connections(Process process, int port) {
            sampler = new Thread(() -> {
                while (!stop) {
                    java.util.Set<String> pids = new java.util.HashSet<>();
                    pids.add(String.valueOf(process.pid()));
                    process.descendants().forEach(h -> pids.add(String.valueOf(h.pid())));
                    try {
                        Process ss = new ProcessBuilder("ss", "-tnpH", "state", "established", "dst", "127.0.0.1:" + port)
                                .redirectErrorStream(true).start();
                        int n = 0;
                        for (String line : new String(ss.getInputStream().readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                            for (String pid : pids) if (line.contains("pid=" + pid + ",")) { n++; break; }
                        }
                        ss.waitFor();
                        peak = Math.max(peak, n);
                        Thread.sleep(50);
                    } catch (Exception e) {
                        return;
                    }
                }
            }, "bench-ss");
            sampler.setDaemon(true);
            sampler.start();
        }

        int peak() {
            return peak;
        }

        @Override
        public void close() throws InterruptedException {
            stop = true;
            sampler.join(2000);
        }
    }

    /** A policy for the seeded secrets, each to file OUT/sI; {@code watch} false turns the watch off. */
    static String policy(String prefix, int secrets, Path out, boolean watch) {
        StringBuilder policy = new StringBuilder(watch ? "secrets:\n" : "defaults: { watch: off }\nsecrets:\n");
        for (int i = 0; i < secrets; i++) {
            policy.append("  - { id: s").append(i).append(", path: ").append(prefix).append("/s").append(i)
                    .append(", fields: [password], generator: { type: random }, schedule: { every: 30d },")
                    .append(" targets: [{ id: f, type: file, path: ").append(out.resolve("s" + i)).append(" }] }\n");
        }
        return policy.toString();
    }
}
