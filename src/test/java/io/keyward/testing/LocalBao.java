package io.keyward.testing;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * An OpenBao server of a test's own, from the pinned binary ({@link VaultExtension.Holder#findBao()}):
 * a fresh dev server (a Vault that has never seen keyward), or a node with raft storage, initialised
 * and unsealed with one key and KV v2 mounted at {@code secret/} as the dev server has it, whose
 * state can be saved as a raft snapshot and restored (a Vault restored to an older state). Tests
 * that need one start it whatever {@code VAULT_ADDR} says, and fail when the binary is missing.
 */
public final class LocalBao implements AutoCloseable {

    static final JsonMapper JSON = JsonMapper.builder().build();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final Process process;
    private final TestVault vault;

    private LocalBao(Process process, TestVault vault) {
        this.process = process;
        this.vault = vault;
    }

    public TestVault vault() {
        return vault;
    }

    /** A fresh dev server on a free loopback port. */
    public static LocalBao dev() throws IOException {
        return dev(List.of());
    }

    /** A fresh dev server that also listens on a Unix domain socket (as a local Vault Proxy or Agent does). */
    public static LocalBao devWithSocket(Path socket) throws IOException {
        Path hcl = Files.writeString(Files.createTempFile("bao-unix", ".hcl"),
                "listener \"unix\" {\n  address = \"" + socket + "\"\n}\n");
        return dev(List.of("-config=" + hcl));
    }

    private static LocalBao dev(List<String> extra) throws IOException {
        int port = TestPorts.free();
        String token = Leaks.track("root-" + UUID.randomUUID());
        List<String> args = new java.util.ArrayList<>(List.of("server", "-dev", "-dev-no-store-token",
                "-dev-root-token-id=" + token, "-dev-listen-address=127.0.0.1:" + port));
        args.addAll(extra);
        Process p = start("dev-" + port, args);
        URI address = URI.create("http://127.0.0.1:" + port);
        awaitActive(p, address);
        return new LocalBao(p, new TestVault(address, token, "bao dev server pid " + p.pid()));
    }

    /** One node with raft storage in {@code dir}: initialised, unsealed, KV v2 at {@code secret/}. */
    public static LocalBao raft(Path dir) throws IOException {
        int port = TestPorts.free();
        int cluster = TestPorts.free();
        Path data = Files.createDirectories(dir.resolve("raft-" + port));
        Path hcl = Files.writeString(dir.resolve("node-" + port + ".hcl"), String.join("\n",
                "storage \"raft\" {", "  path = \"" + data + "\"", "  node_id = \"node-" + port + "\"", "}",
                "listener \"tcp\" {", "  address = \"127.0.0.1:" + port + "\"", "  cluster_address = \"127.0.0.1:" + cluster + "\"",
                "  tls_disable = true", "}",
                "api_addr = \"http://127.0.0.1:" + port + "\"", "cluster_addr = \"https://127.0.0.1:" + cluster + "\"",
                "disable_mlock = true", ""));
        Process p = start("raft-" + port, List.of("server", "-config=" + hcl));
        URI address = URI.create("http://127.0.0.1:" + port);
        JsonNode init = null;
        for (long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60); init == null && System.nanoTime() < until; ) {
            try {
                init = call(address, null, "PUT", "sys/init", "{\"secret_shares\":1,\"secret_threshold\":1}");
            } catch (IOException notYet) {
                sleep(100);
            }
        }
        if (init == null) {
            VaultExtension.stop(p);
            throw new AssertionError("raft node at " + address + " never answered sys/init within 60 s");
        }
        String key = init.path("keys_base64").get(0).asString();
        String token = Leaks.track(init.path("root_token").asString());
        Leaks.track(key);
        call(address, null, "PUT", "sys/unseal", JSON.writeValueAsString(java.util.Map.of("key", key)));
        awaitActive(p, address);
        call(address, token, "POST", "sys/mounts/secret", "{\"type\":\"kv\",\"options\":{\"version\":\"2\"}}");
        return new LocalBao(p, new TestVault(address, token, "bao raft node pid " + p.pid()));
    }

    /** The whole state as a raft snapshot. */
    public byte[] snapshot() throws IOException {
        HttpResponse<byte[]> r = send(HttpRequest.newBuilder(vault.address().resolve("/v1/sys/storage/raft/snapshot"))
                .header("X-Vault-Token", vault.rootToken()).GET(), HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() != 200) throw new AssertionError("raft snapshot answered " + r.statusCode());
        return r.body();
    }

    /** Puts the state of a snapshot back (forced: it replaces everything written since), then waits until active. */
    public void restore(byte[] snapshot) throws IOException {
        HttpResponse<String> r = send(HttpRequest.newBuilder(vault.address().resolve("/v1/sys/storage/raft/snapshot-force"))
                .header("X-Vault-Token", vault.rootToken()).POST(HttpRequest.BodyPublishers.ofByteArray(snapshot)),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() / 100 != 2) throw new AssertionError("raft snapshot restore answered " + r.statusCode() + ": " + r.body());
        awaitActive(process, vault.address());
    }

    /** Starts {@code bao} with its log in target/bao, which the leak scan leaves alone: a dev server prints its root token. */
    static Process start(String name, List<String> args) throws IOException {
        Path bao = VaultExtension.Holder.findBao();
        if (bao == null) {
            throw new AssertionError("this test starts an OpenBao of its own and needs the bao binary: run .ci/install-openbao");
        }
        List<String> cmd = new java.util.ArrayList<>(List.of(bao.toString()));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(Files.createDirectories(TestDirs.target().resolve("bao")).resolve("bao-" + name + ".log").toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("VAULT_") || k.startsWith("BAO_"));
        return pb.start();
    }

    static void awaitActive(Process p, URI address) {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        String last = "no answer";
        while (System.nanoTime() < until) {
            if (!p.isAlive()) throw new AssertionError("bao at " + address + " exited with " + p.exitValue());
            try {
                HttpResponse<String> r = send(HttpRequest.newBuilder(address.resolve("/v1/sys/health")).GET(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) return;
                last = "HTTP " + r.statusCode();
            } catch (IOException e) {
                last = e.toString();
            }
            sleep(100);
        }
        throw new AssertionError("bao at " + address + " was not active within 60 s (last: " + last + ")");
    }

    static JsonNode call(URI address, String token, String method, String path, String body) throws IOException {
        HttpRequest.Builder b = HttpRequest.newBuilder(address.resolve("/v1/" + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) b.header("X-Vault-Token", token);
        HttpResponse<String> r = send(b, HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() / 100 != 2) throw new IOException(method + " " + path + " answered " + r.statusCode() + ": " + r.body());
        return r.body().isEmpty() ? JSON.createObjectNode() : JSON.readTree(r.body());
    }

    /** The HTTP status of an unauthenticated GET. */
    static int status(URI address, String path) throws IOException {
        try {
            return HTTP.send(HttpRequest.newBuilder(address.resolve("/v1/" + path)).timeout(Duration.ofSeconds(2)).GET().build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    private static <T> HttpResponse<T> send(HttpRequest.Builder b, HttpResponse.BodyHandler<T> handler) throws IOException {
        try {
            return HTTP.send(b.timeout(Duration.ofSeconds(10)).build(), handler);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted");
        }
    }

    @Override
    public void close() {
        VaultExtension.stop(process);
    }
}
