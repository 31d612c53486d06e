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
