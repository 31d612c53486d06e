package io.keyward.testing;

import io.keyward.vault.VaultAuth;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import tools.jackson.databind.JsonNode;

/**
 * A second OpenBao dev server, started with -dev-tls so it serves HTTPS under a CA of its own
 * (written to a folder of the test's). Used by the TLS tests only; stopped by {@link #close()}.
 */
public final class DevTlsVault implements AutoCloseable {

    private final Process process;
    private final URI address;
    private final String token;
    private final Path certDir;

    private DevTlsVault(Process process, URI address, String token, Path certDir) {
        this.process = process;
        this.address = address;
        this.token = token;
        this.certDir = certDir;
    }

    public static DevTlsVault start() throws IOException, InterruptedException {
        Path bao = VaultExtension.Holder.findBao();
        if (bao == null) {
            throw new IllegalStateException("No bao binary for the TLS tests: run .ci/install-openbao");
        }
        int port = TestPorts.free();
        Path dir = Files.createDirectories(TestDirs.target().resolve("bao").resolve("tls-" + port));
        String token = Leaks.track("tlsroot-" + UUID.randomUUID());
        ProcessBuilder pb = new ProcessBuilder(bao.toString(), "server", "-dev", "-dev-tls",
                "-dev-tls-cert-dir=" + dir, "-dev-no-store-token", "-dev-root-token-id=" + token,
                "-dev-listen-address=127.0.0.1:" + port)
                .redirectErrorStream(true).redirectOutput(dir.resolve("bao.log").toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("VAULT_") || k.startsWith("BAO_"));
        Process p = pb.start();
        Instant until = Instant.now().plus(Duration.ofSeconds(60));
        while (!Files.exists(dir.resolve("vault-ca.pem")) || !healthy(p, dir, port)) {
            if (!p.isAlive()) throw new IllegalStateException("bao -dev-tls exited: see " + dir.resolve("bao.log"));
            if (Instant.now().isAfter(until)) {
                p.destroyForcibly();
                throw new IllegalStateException("bao -dev-tls not healthy in 60s: see " + dir.resolve("bao.log"));
            }
            Thread.sleep(100);
        }
        return new DevTlsVault(p, URI.create("https://127.0.0.1:" + port), token, dir);
    }

    private static boolean healthy(Process p, Path dir, int port) {
        try {
            Process curl = new ProcessBuilder("curl", "-sf", "--cacert", dir.resolve("vault-ca.pem").toString(),
                    "https://127.0.0.1:" + port + "/v1/sys/health").redirectErrorStream(true).start();
            return curl.waitFor() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    public URI address() {
        return address;
    }

    public Path caFile() {
        return certDir.resolve("vault-ca.pem");
    }

    public Path certFile() {
        return certDir.resolve("vault-cert.pem");
    }

    public Path keyFile() {
        return certDir.resolve("vault-key.pem");
    }

    public VaultAuth rootAuth() {
        return new VaultAuth.Token(Optional.of(token), Optional.empty());
    }

    /** The same server as a {@link TestVault} (address and token); its admin calls go through curl. */
    public TestVault asTestVault() {
        return new TestVault(address, token, "bao -dev-tls");
    }

    public JsonNode admin(String method, String apiPath, String body) throws IOException, InterruptedException {
        java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of("curl", "-sf", "--cacert",
                caFile().toString(), "-X", method, "-H", "X-Vault-Token: " + token));
        if (body != null) {
            cmd.add("--data-binary");
            cmd.add(body);
        }
        cmd.add(address + "/v1/" + apiPath);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) throw new AssertionError("test setup: " + method + " " + apiPath + " failed: " + out);
        return out.isBlank() ? null : tools.jackson.databind.json.JsonMapper.builder().build().readTree(out);
    }

    @Override
    public void close() {
        VaultExtension.stop(process);
    }
}
