package io.keyward.bench;

import io.keyward.testing.TestVault;
import io.keyward.testing.VaultExtension;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Syncs N secrets from OpenBao to files twice: with {@code keyward sync} (a fresh JVM, as an
 * operator would run it) and with {@code bao agent} rendering one template per secret from the
 * same server ({@code exit_after_auth}: render once, then exit). keyward runs a second time to show
 * the cost of a sync with nothing to deliver (what every watch interval costs). JVM flags of the
 * keyward runs: {@code -Dbench.jvm="..."}. Both run under /usr/bin/time;
 * prints wall time and peak RSS of each and checks that both wrote the same N files.
 * Usage: {@code bench/run sync [secrets] [threads] [folder]}; defaults 10000, 16 (as keyward sync), target/bench/sync.
 */
public final class SyncBench {

    public static void main(String[] args) throws Exception {
        int secrets = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 16;
        Path dir = (args.length > 2 ? Path.of(args[2]) : Path.of("target/bench/sync")).toAbsolutePath();
        BenchSecrets.deleteTree(dir);
        Files.createDirectories(dir);
        try (VaultExtension.Holder holder = VaultExtension.open()) {
            TestVault vault = holder.vault();
            System.out.printf("Vault: %s%nsecrets %d, keyward threads %d%n", vault.origin(), secrets, threads);
            String prefix = vault.uniqueName("sync");
            String warmPrefix = vault.uniqueName("warm");
            String hotPrefix = vault.uniqueName("hot");
            BenchSecrets.seed(vault, prefix, secrets, threads);
            BenchSecrets.seed(vault, warmPrefix, Math.min(secrets, 2_000), threads);
            BenchSecrets.seed(vault, hotPrefix, secrets, threads);

            Path keywardOut = Files.createDirectories(dir.resolve("out-keyward"));
            Path agentOut = Files.createDirectories(dir.resolve("out-agent"));
            Path token = Files.writeString(dir.resolve("token"), vault.rootToken(), StandardCharsets.UTF_8);
            Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-------"));

            StringBuilder agent = new StringBuilder();
            agent.append("vault { address = \"").append(vault.address()).append("\" }\n")
                    .append("exit_after_auth = true\n")
                    .append("auto_auth {\n  method {\n    type = \"token_file\"\n    config = { token_file_path = \"")
                    .append(token).append("\" }\n  }\n}\n");
            for (int i = 0; i < secrets; i++) {
                agent.append("template {\n  contents = \"{{ with secret \\\"secret/data/").append(prefix).append("/s").append(i)
                        .append("\\\" }}{{ .Data.data.password }}{{ end }}\"\n  destination = \"")
                        .append(agentOut.resolve("s" + i)).append("\"\n  perms = \"0600\"\n}\n");
            }
            Files.writeString(dir.resolve("policy.yaml"), BenchSecrets.policy(prefix, secrets, keywardOut, false));
            Files.writeString(dir.resolve("agent.hcl"), agent);
            Path config = Files.writeString(dir.resolve("keyward.yaml"), String.join("\n",
                    "agent: { id: bench-sync }",
                    "vault: { address: \"" + vault.address() + "\", auth: { method: token, token_file: " + token + " } }",
                    "state: { mount: secret, path: " + vault.uniqueName("state") + ", dir: " + dir.resolve("state") + " }",
                    "audit: { file: " + dir.resolve("audit.jsonl") + ", hmac_key_file: " + dir.resolve("hmac.key") + " }",
                    "policy: " + dir.resolve("policy.yaml"),
                    ""));

            String classpath = System.getProperty("java.class.path");
            String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            List<String> jvm = new ArrayList<>(List.of(javaBin));
            jvm.addAll(BenchSecrets.unitJvmFlags());
            System.out.printf("JVM flags of keyward: %s%n", String.join(" ", jvm.subList(1, jvm.size())));
            int port = vault.address().getPort();
            jvm.add("-Dlogback.configurationFile=" + Path.of("bench/logback-bench.xml").toAbsolutePath());
            List<String> keyward = new ArrayList<>(jvm);
            keyward.addAll(List.of("-cp", classpath, "io.keyward.cli.Main", "sync", "--quiet", "--threads",
                    String.valueOf(threads), "-c", config.toString()));
            Measured k = measure(keyward, dir.resolve("keyward.out"), port);
            Measured again = measure(keyward, dir.resolve("keyward-again.out"), port);
            List<String> bao = List.of(VaultExtension.Holder.findBao().toString(), "agent", "-config=" + dir.resolve("agent.hcl"),
                    "-log-level=warn");
            Measured a = measure(bao, dir.resolve("agent.out"), port);

            // keyward as it runs in production: a running agent (warm JVM) whose watch finds N new versions.
            Path hotOut = Files.createDirectories(dir.resolve("out-running"));
            Files.writeString(dir.resolve("warm.yaml"), BenchSecrets.policy(warmPrefix, Math.min(secrets, 2_000), hotOut.resolve("warm"), false));
            Files.writeString(dir.resolve("hot.yaml"), BenchSecrets.policy(hotPrefix, secrets, hotOut.resolve("hot"), false));
            java.util.Map<String, String> env = java.util.Map.of();
            // each with its own state folder (ledger), as another host's agent: the secret ids repeat across the runs
            io.keyward.daemon.AgentConfig warmConfig = io.keyward.daemon.AgentConfig.load(Files.writeString(
                    dir.resolve("keyward-warm.yaml"), Files.readString(config).replace("dir: " + dir.resolve("state"),
                            "dir: " + dir.resolve("state-warm"))), env, "bench");
            io.keyward.daemon.AgentConfig agentConfig = io.keyward.daemon.AgentConfig.load(Files.writeString(
                    dir.resolve("keyward-running.yaml"), Files.readString(config).replace("dir: " + dir.resolve("state"),
                            "dir: " + dir.resolve("state-running"))), env, "bench");
            double running;
            double runningIdle;
            int runningPeak;
            try (io.keyward.daemon.Agent warm = io.keyward.daemon.Agent.start(warmConfig,
                    io.keyward.policy.Policy.load(dir.resolve("warm.yaml")), Clock.systemUTC(),
                    io.keyward.rotation.Plugins.PhaseListener.none(), env)) {
                syncAll(warm, threads, io.keyward.rotation.Outcome.Delivered.class);
            }
            try (io.keyward.daemon.Agent hot = io.keyward.daemon.Agent.start(agentConfig,
                    io.keyward.policy.Policy.load(dir.resolve("hot.yaml")), Clock.systemUTC(),
                    io.keyward.rotation.Plugins.PhaseListener.none(), env)) {
                long t0 = System.nanoTime();
                syncAll(hot, threads, io.keyward.rotation.Outcome.Delivered.class);
                running = (System.nanoTime() - t0) / 1e9;
                t0 = System.nanoTime();
                syncAll(hot, threads, io.keyward.rotation.Outcome.UpToDate.class); // what a watch with nothing new costs
                runningIdle = (System.nanoTime() - t0) / 1e9;
                runningPeak = hot.vault().peakConnections();
            }
            double floor = VaultReadBench.bareReadSeconds(vault, prefix, secrets, threads);

            int same = compare(keywardOut, agentOut, secrets);
            System.out.printf("%-58s %8s %9s %12s%n", "", "time", "peak RSS", "connections");
            row("keyward sync, fresh process, " + secrets + " new versions", k.seconds, k.rssKb, k.peakConnections);
            row("keyward sync again, fresh process, nothing to deliver", again.seconds, again.rssKb, again.peakConnections);
            row("bao agent, " + secrets + " templates", a.seconds, a.rssKb, a.peakConnections);
            row("keyward running agent, " + secrets + " new versions", running, -1, runningPeak);
            row("keyward running agent, a watch with nothing new", runningIdle, -1, runningPeak);
            row("bare KV reads, one per secret (java.net.http, warm)", floor, -1, threads);
            System.out.printf("ratio bao agent / keyward: %.1fx (fresh process), %.1fx (running agent)%n",
                    a.seconds / k.seconds, a.seconds / running);
            System.out.printf("watch with nothing new / bare reads: %.2fx (running agent), %.2fx (fresh process)%n",
                    runningIdle / floor, again.seconds / floor);
            System.out.printf("files identical in both: %d of %d%n", same, secrets);
            if (same != secrets) System.exit(1);
        }
    }

    private record Measured(double seconds, long rssKb, String lastLine, int peakConnections) {}

    private static void row(String what, double seconds, long rssKb, int connections) {
        System.out.printf("%-58s %7.2fs %9s %12d%n", what, seconds, rssKb < 0 ? "-" : (rssKb / 1024) + " MB", connections);
    }

    private static void syncAll(io.keyward.daemon.Agent agent, int threads,
                                Class<? extends io.keyward.rotation.Outcome> expected) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<io.keyward.rotation.Outcome>> runs = new ArrayList<>();
            for (io.keyward.rotation.SecretBinding b : agent.bindings().values()) {
                runs.add(pool.submit(() -> agent.rotator().sync(b)));
            }
            for (Future<io.keyward.rotation.Outcome> f : runs) {
                io.keyward.rotation.Outcome o = f.get();
                if (!expected.isInstance(o)) throw new IllegalStateException(o.describe());
            }
        } finally {
            pool.shutdown(); // not shutdownNow: an interrupt would abort file writes still under way
        }
    }

    /** Runs a command under /usr/bin/time, which reports wall seconds and peak RSS (KB). */
    private static Measured measure(List<String> command, Path out, int port) throws Exception {
        List<String> timed = new ArrayList<>(List.of("/usr/bin/time", "-f", "TIME %e %M"));
        timed.addAll(command);
        Process p = new ProcessBuilder(timed).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        int code;
        int peak;
        try (BenchSecrets.Connections connections = new BenchSecrets.Connections(p, port)) {
            code = p.waitFor();
            peak = connections.peak();
        }
        List<String> lines = Files.readAllLines(out);
        String time = lines.stream().filter(l -> l.startsWith("TIME ")).reduce((x, y) -> y)
                .orElseThrow(() -> new IllegalStateException(command.get(0) + " printed no timing; see " + out));
        if (code != 0) throw new IllegalStateException(String.join(" ", command.subList(0, 2)) + " exited " + code + "; see " + out);
        String[] f = time.split(" ");
        String last = lines.stream().filter(l -> !l.startsWith("TIME ") && !l.isBlank()).reduce((x, y) -> y).orElse("");
        return new Measured(Double.parseDouble(f[1]), Long.parseLong(f[2]), last, peak);
    }

    private static int compare(Path a, Path b, int secrets) throws IOException {
        int same = 0;
        for (int i = 0; i < secrets; i++) {
            Path x = a.resolve("s" + i);
            Path y = b.resolve("s" + i);
            if (Files.exists(x) && Files.exists(y) && Files.readString(x).equals(Files.readString(y))) same++;
        }
        return same;
    }
}
