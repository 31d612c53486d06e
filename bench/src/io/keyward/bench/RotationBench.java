package io.keyward.bench;

import io.keyward.audit.JsonAuditLog;
import io.keyward.generate.Generators;
import io.keyward.policy.Policy;
import io.keyward.rotation.Fingerprinter;
import io.keyward.rotation.Outcome;
import io.keyward.rotation.KeySource;
import io.keyward.rotation.Plugins;
import io.keyward.rotation.Rotator;
import io.keyward.rotation.SecretBinding;
import io.keyward.rotation.SecretData;
import io.keyward.rotation.Sleeper;
import io.keyward.testing.TestVault;
import io.keyward.testing.VaultExtension;
import io.keyward.vault.VaultClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * End-to-end rotations per second against OpenBao: every phase journaled with check-and-set, the
 * value staged, promoted and delivered to an in-memory target, the old one retired (grace 0).
 * Usage: {@code bench/run rotations [secrets] [threads]}; defaults 1000, 8.
 */
public final class RotationBench {

    public static void main(String[] args) throws Exception {
        int secrets = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 8;
        try (VaultExtension.Holder holder = VaultExtension.open()) {
            TestVault vault = holder.vault();
            System.out.printf("Vault: %s%nsecrets %d, threads %d%n", vault.origin(), secrets, threads);
            Path dir = Files.createDirectories(Path.of("target/bench"));
            Fingerprinter fp = new Fingerprinter("bench-fingerprint-key-0123456789".getBytes());
            String prefix = vault.uniqueName("rot");
            StringBuilder yaml = new StringBuilder("secrets:\n");
            for (int i = 0; i < secrets; i++) {
                yaml.append("  - id: s").append(i).append("\n    path: ").append(prefix).append("/s").append(i)
                        .append("\n    generator: { type: random, length: 32 }\n    schedule: { every: 30d }\n    grace: 0s\n");
            }
            Policy policy = Policy.parse("bench.yaml", yaml.toString());
            Generators generators = new Generators(new SecureRandom(), Map.of());
            Map<String, Integer> held = new ConcurrentHashMap<>();
            List<SecretBinding> bindings = new ArrayList<>();
            for (Policy.SecretPolicy s : policy.secrets()) {
                Plugins.Target memory = new Plugins.Target() {
                    @Override
                    public String id() {
                        return "memory";
                    }

                    @Override
                    public void deliver(String secretId, int version, SecretData value) {
                        held.put(secretId, version);
                    }
                };
                bindings.add(new SecretBinding(s, new KeySource.Generated(generators.generator(s).orElseThrow(),
                        Optional.empty()), List.of(), List.of(memory)));
            }
            try (JsonAuditLog audit = JsonAuditLog.open(dir.resolve("rotations-audit.jsonl"), "bench", Clock.systemUTC());
                 VaultClient store = VaultClient.connect(vault.rootSettings(), audit, fp, Clock.systemUTC())) {
                Rotator rotator = Rotator.builder(store, new Rotator.Settings(vault.uniquePath("state"), "bench",
                        Duration.ofMinutes(2))).audit(audit, fp).waits(Sleeper.system(), Math::random).build();
                // warm-up on 50 secrets, then the measured pass over all of them
                run(rotator, bindings.subList(0, Math.min(50, secrets)), threads);
                long t0 = System.nanoTime();
                int completed = run(rotator, bindings, threads);
                double seconds = (System.nanoTime() - t0) / 1e9;
                System.out.printf("rotated %d of %d secrets end to end in %.2f s: %.0f rotations/s%n",
                        completed, secrets, seconds, completed / seconds);
                if (completed != secrets) System.out.println("WARNING: not every rotation completed");
            }
        }
    }

    private static int run(Rotator rotator, List<SecretBinding> bindings, int threads) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        AtomicInteger next = new AtomicInteger();
        AtomicInteger completed = new AtomicInteger();
        List<Future<?>> futures = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            futures.add(pool.submit(() -> {
                for (int i = next.getAndIncrement(); i < bindings.size(); i = next.getAndIncrement()) {
                    Outcome o = rotator.rotate(bindings.get(i), true, false, "bench");
                    if (o instanceof Outcome.Completed) completed.incrementAndGet();
                    else System.out.println(o.describe());
                }
                return null;
            }));
        }
        for (Future<?> f : futures) f.get();
        pool.shutdown();
        return completed.get();
    }
}
