package io.keyward.bench;

import io.keyward.testing.TestVault;
import io.keyward.testing.VaultExtension;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.newsclub.net.unix.AFUNIXDatagramSocket;
import org.newsclub.net.unix.AFUNIXSocketAddress;

/**
 * `keyward run` as systemd starts it: the launcher and the packaged jar, with the JVM flags of
 * systemd/keyward.service (KEYWARD_JAVA_OPTS; {@code BENCH_JVM} overrides) and its class-data
 * archive (KEYWARD_CDS_DIR; the first start writes it at its stop, the second start runs without
 * it and the third from it): time from process start to READY=1 on a NOTIFY_SOCKET, peak RSS (VmHWM) over the first {@code observe} seconds after READY (the first
 * look at every secret and the first watch of each fall in it), and time from SIGTERM to exit.
 * Runs with 10 secrets and with {@code secrets} (default 10,000), each already in Vault.
 * Usage: {@code bench/run daemon [secrets] [observe-seconds]}.
 */
public final class DaemonBench {

    public static void main(String[] args) throws Exception {
        int secrets = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        int observe = args.length > 1 ? Integer.parseInt(args[1]) : 90;
        Path dir = Path.of("target/bench/daemon").toAbsolutePath();
        Files.createDirectories(dir);
        List<String> flags = BenchSecrets.unitJvmFlags();
        try (VaultExtension.Holder holder = VaultExtension.open()) {
            TestVault vault = holder.vault();
            System.out.printf("Vault: %s%nJVM flags: %s%n", vault.origin(), String.join(" ", flags));
            for (int n : new int[] {10, secrets}) {
                String prefix = vault.uniqueName("daemon");
                BenchSecrets.seed(vault, prefix, n, 16);
                Path out = Files.createDirectories(dir.resolve("out-" + n));
                Files.writeString(dir.resolve("policy-" + n + ".yaml"), BenchSecrets.policy(prefix, n, out, true));
                Path token = Files.writeString(dir.resolve("token"), vault.rootToken(), StandardCharsets.UTF_8);
                Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-------"));
                Path config = Files.writeString(dir.resolve("keyward-" + n + ".yaml"), String.join("\n",
                        "agent: { id: bench-daemon }",
                        "vault: { address: \"" + vault.address() + "\", auth: { method: token, token_file: " + token + " } }",
                        "state: { mount: secret, path: " + vault.uniqueName("state") + ", dir: " + dir.resolve("state-" + n) + " }",
                        "metrics: { listen: off }",
                        "audit: { file: " + dir.resolve("audit-" + n + ".jsonl") + ", hmac_key_file: " + dir.resolve("hmac.key") + " }",
                        "policy: " + dir.resolve("policy-" + n + ".yaml"),
                        ""));
                int window = n == 10 ? Math.min(observe, 20) : observe;
                Path archive = dir.resolve("cds-" + n);
                BenchSecrets.deleteTree(archive);
                run(flags, archive, config, dir.resolve("keyward-" + n + ".log"), n, window, "first start, no target written yet");
                run(flags, null, config, dir.resolve("keyward-" + n + "-plain.log"), n, window,
                        "started again, every target current, no class archive");
                java.time.Instant ready = run(flags, archive, config, dir.resolve("keyward-" + n + "-again.log"), n, window,
                        "started again, every target current, class archive");
                requests(dir.resolve("audit-" + n + ".jsonl"), prefix, ready, n, window);
            }
        }
    }

    /**
     * Starts keyward run through the launcher (packaging/keyward, the packaged jar) as the unit does,
     * with the class-data archive in {@code archive} (none if null), waits for READY, watches RSS for
     * {@code observe} s, stops it; returns when READY came.
     */
    private static java.time.Instant run(List<String> flags, Path archive, Path config, Path log, int secrets, int observe,
                                         String what) throws Exception {
        Path socketFile = Files.createTempDirectory("kw-bench").resolve("notify.sock");
        try (AFUNIXDatagramSocket systemd = AFUNIXDatagramSocket.newInstance()) {
            systemd.bind(AFUNIXSocketAddress.of(socketFile.toFile()));
            systemd.setSoTimeout(200);
            List<String> opts = new ArrayList<>(flags);
            opts.add("-Dlogback.configurationFile=" + Path.of("bench/logback-bench.xml").toAbsolutePath());
            ProcessBuilder pb = new ProcessBuilder(Path.of("packaging/keyward").toAbsolutePath().toString(), "run", "-c",
                    config.toString()).redirectErrorStream(true).redirectOutput(log.toFile());
            pb.environment().put("NOTIFY_SOCKET", socketFile.toString());
            pb.environment().put("KEYWARD_JAVA_OPTS", String.join(" ", opts));
            pb.environment().put("KEYWARD_JAR", Path.of("target/keyward.jar").toAbsolutePath().toString());
            pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
            if (archive != null) pb.environment().put("KEYWARD_CDS_DIR", archive.toString());
            long t0 = System.nanoTime();
            Process p = pb.start();
            double ready = -1;
            java.time.Instant readyAt = null;
            byte[] buf = new byte[2048];
            while (ready < 0 && p.isAlive() && System.nanoTime() - t0 < TimeUnit.MINUTES.toNanos(10)) {
                DatagramPacket d = new DatagramPacket(buf, buf.length);
                try {
                    systemd.receive(d);
                } catch (SocketTimeoutException e) {
                    continue;
                }
                if (new String(d.getData(), 0, d.getLength(), StandardCharsets.UTF_8).lines().anyMatch("READY=1"::equals)) {
                    ready = (System.nanoTime() - t0) / 1e9;
                    readyAt = java.time.Instant.now();
                }
            }
            if (ready < 0) throw new IllegalStateException("keyward never became READY; see " + log);
            long rssAtReady = status(p.pid(), "VmRSS");
            Thread.sleep(observe * 1000L);
            long peak = status(p.pid(), "VmHWM");
            long now = status(p.pid(), "VmRSS");
            long t1 = System.nanoTime();
            p.destroy();
            boolean stopped = p.waitFor(2, TimeUnit.MINUTES);
            double stop = (System.nanoTime() - t1) / 1e9;
            System.out.printf("%6d secrets, %s: READY after %5.2f s; RSS at READY %4d MB, peak over %d s %4d MB, then %4d MB;"
                            + " SIGTERM to exit %.2f s (exit %s)%n", secrets, what, ready, rssAtReady / 1024, observe, peak / 1024,
                    now / 1024, stop, stopped ? String.valueOf(p.exitValue()) : "none");
            return readyAt;
        }
    }

    /**
     * The Vault requests of the bench's secrets from READY on (of the second start, with nothing new in Vault),
     * counted from the audit file by kind: each look at a secret with nothing new should be one read of its live version.
     */
    private static void requests(Path audit, String prefix, java.time.Instant from, int secrets, int window) throws IOException {
        java.util.Map<String, Integer> kinds = new java.util.TreeMap<>();
        tools.jackson.databind.json.JsonMapper json = tools.jackson.databind.json.JsonMapper.builder().build();
        for (String line : Files.readAllLines(audit)) {
            tools.jackson.databind.JsonNode n = json.readTree(line);
            String event = n.path("event").asString("");
            if (!event.startsWith("vault.") || java.time.Instant.parse(n.path("time").asString()).isBefore(from)) continue;
            String path = n.path("path").asString("");
            String kind = path.startsWith("secret/" + prefix + "/") ? event + " of a secret" : event + " of keyward's state";
            kinds.merge(kind, 1, Integer::sum);
        }
        int reads = kinds.getOrDefault("vault.read of a secret", 0);
        int other = kinds.values().stream().mapToInt(Integer::intValue).sum() - reads;
        System.out.printf("%6d secrets, Vault requests in the %d s after READY (nothing new in Vault): %s%n", secrets, window, kinds);
        System.out.printf("%6d secrets: %.2f reads of the live version per secret (one per look: the first look and each watch),"
                + " %d other requests%n", secrets, reads / (double) secrets, other);
    }

    private static long status(long pid, String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith(field + ":")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
        return -1;
    }

}
