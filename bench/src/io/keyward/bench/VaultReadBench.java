package io.keyward.bench;

import io.keyward.audit.JsonAuditLog;
import io.keyward.rotation.AuditLog;
import io.keyward.rotation.Fingerprinter;
import io.keyward.rotation.SecretData;
import io.keyward.rotation.SecretPath;
import io.keyward.testing.TestVault;
import io.keyward.testing.VaultExtension;
import io.keyward.vault.VaultClient;
import io.keyward.vault.VaultSettings;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * KV v2 reads per second through keyward's Vault adapter, beside a bare java.net.http loop
 * against the same OpenBao (the floor an HTTP client cannot beat). Usage:
 * {@code bench/run vault-reads [secrets] [threads] [rounds]}; defaults 10000, 8, 3.
 */
public final class VaultReadBench {

    public static void main(String[] args) throws Exception {
        int secrets = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 8;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;

        try (VaultExtension.Holder holder = VaultExtension.open()) {
            TestVault vault = holder.vault();
            System.out.printf("Vault: %s%nsecrets %d, threads %d, rounds %d%n", vault.origin(), secrets, threads, rounds);
            Path dir = Files.createDirectories(Path.of("target/bench"));
            Fingerprinter fp = new Fingerprinter("bench-fingerprint-key-0123456789".getBytes());
            VaultSettings settings = vault.rootSettings();
            String prefix = vault.uniqueName("bench");
            List<SecretPath> paths = new ArrayList<>();
            for (int i = 0; i < secrets; i++) paths.add(SecretPath.of("secret", prefix + "/s" + i));

            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try (JsonAuditLog audit = JsonAuditLog.open(dir.resolve("vault-reads-audit.jsonl"), "bench", Clock.systemUTC());
                 VaultClient audited = VaultClient.connect(settings, audit, fp, Clock.systemUTC());
                 VaultClient silent = VaultClient.connect(settings, AuditLog.none(), fp, Clock.systemUTC())) {
                long t0 = System.nanoTime();
                forAll(pool, paths, threads, p -> silent.write(p, SecretData.of("value", "v-" + p.path()), OptionalInt.empty()));
                System.out.printf("seeded %d secrets in %.1f s%n", secrets, (System.nanoTime() - t0) / 1e9);

                Op bare = bare(vault);
                Op adapter = p -> audited.read(p).orElseThrow();
                Op adapterNoAudit = p -> silent.read(p).orElseThrow();

                // warm-up
                forAll(pool, paths, threads, bare);
                forAll(pool, paths, threads, adapter);
                double bestBare = 0, bestAdapter = 0, bestSilent = 0;
                for (int r = 0; r < rounds; r++) {
                    bestBare = Math.max(bestBare, rate(pool, paths, threads, bare));
                    bestAdapter = Math.max(bestAdapter, rate(pool, paths, threads, adapter));
                    bestSilent = Math.max(bestSilent, rate(pool, paths, threads, adapterNoAudit));
                }
                System.out.printf("bare java.net.http     : %8.0f reads/s%n", bestBare);
                System.out.printf("keyward adapter        : %8.0f reads/s (audit line + fingerprint per read)%n", bestAdapter);
                System.out.printf("keyward adapter, no audit: %6.0f reads/s%n", bestSilent);
                System.out.printf("ratio adapter/bare     : %8.2f%n", bestAdapter / bestBare);
            } finally {
                pool.shutdownNow();
            }
        }
    }

    /** One plain GET per secret with java.net.http: the floor an agent reading each secret once cannot beat by much. */
    private static Op bare(TestVault vault) {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        return p -> {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(
                            URI.create(vault.address() + "/v1/" + p.mount() + "/data/" + p.path()))
                    .header("X-Vault-Token", vault.rootToken()).timeout(Duration.ofSeconds(30)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) throw new IllegalStateException("HTTP " + r.statusCode());
        };
    }

    /** Seconds for the best of three rounds of bare reads of PREFIX/s0..sN-1 (after one warm-up round). */
    static double bareReadSeconds(TestVault vault, String prefix, int secrets, int threads) throws Exception {
        List<SecretPath> paths = new ArrayList<>();
        for (int i = 0; i < secrets; i++) paths.add(SecretPath.of("secret", prefix + "/s" + i));
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            Op bare = bare(vault);
            forAll(pool, paths, threads, bare);
            double best = 0;
            for (int r = 0; r < 3; r++) best = Math.max(best, rate(pool, paths, threads, bare));
            return secrets / best;
        } finally {
            pool.shutdownNow();
        }
    }

    @FunctionalInterface
    interface Op {
        void run(SecretPath p) throws Exception;
    }

    private static double rate(ExecutorService pool, List<SecretPath> paths, int threads, Op op) throws Exception {
        long t0 = System.nanoTime();
        forAll(pool, paths, threads, op);
        return paths.size() / ((System.nanoTime() - t0) / 1e9);
    }

    private static void forAll(ExecutorService pool, List<SecretPath> paths, int threads, Op op) throws Exception {
        AtomicInteger next = new AtomicInteger();
        List<Future<?>> futures = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            futures.add(pool.submit(() -> {
                for (int i = next.getAndIncrement(); i < paths.size(); i = next.getAndIncrement()) {
                    op.run(paths.get(i));
                }
                return null;
            }));
        }
        for (Future<?> f : futures) f.get();
    }
}
