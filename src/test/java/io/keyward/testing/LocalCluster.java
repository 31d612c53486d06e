package io.keyward.testing;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import tools.jackson.databind.JsonNode;

/**
 * A real OpenBao raft cluster of a test's own, as production runs one: {@code n} nodes from the
 * pinned binary, raft storage in a temporary folder, loopback listeners, initialised with one
 * unseal key, the others joined and unsealed, KV v2 at {@code secret/} and AppRole enabled. Raft
 * runs at {@code performance_multiplier = 1}, the timing production guides advise, so an election
 * takes a few seconds rather than the default's fifteen or so. Standbys
 * serve reads themselves (OpenBao's default since 2.5), so a read there may lag behind a write.
 * A node can be SIGKILLed (the leader, or the one keyward talks to), paused (SIGSTOP, so that it
 * falls behind), let go, and started again (it comes back sealed and is unsealed).
 */
public final class LocalCluster implements AutoCloseable {

    /** One node: its API address, config file and process (null while it is down). */
    private static final class Node {
        final String name;
        final URI address;
        final Path config;
        Process process;

        Node(String name, URI address, Path config) {
            this.name = name;
            this.address = address;
            this.config = config;
        }
    }

    private final List<Node> nodes;
    private final String token;
    private final String unsealKey;

    private LocalCluster(List<Node> nodes, String token, String unsealKey) {
        this.nodes = nodes;
        this.token = token;
        this.unsealKey = unsealKey;
    }

    /** Starts {@code size} nodes in {@code dir} and waits until every one is a voter. */
    public static LocalCluster start(int size, Path dir) throws IOException {
        List<Node> nodes = new ArrayList<>();
        for (int i = 1; i <= size; i++) {
            int port = TestPorts.free();
            int cluster = TestPorts.free();
            String name = "node" + i + "-" + port;
            Path data = Files.createDirectories(dir.resolve(name));
            Path hcl = Files.writeString(dir.resolve(name + ".hcl"), String.join("\n",
                    "storage \"raft\" {", "  path = \"" + data + "\"", "  node_id = \"" + name + "\"",
                    "  performance_multiplier = 1", "}",
                    "listener \"tcp\" {", "  address = \"127.0.0.1:" + port + "\"",
                    "  cluster_address = \"127.0.0.1:" + cluster + "\"", "  tls_disable = true", "}",
                    "api_addr = \"http://127.0.0.1:" + port + "\"", "cluster_addr = \"https://127.0.0.1:" + cluster + "\"",
                    "disable_mlock = true", ""));
            nodes.add(new Node(name, URI.create("http://127.0.0.1:" + port), hcl));
        }
        for (Node n : nodes) n.process = LocalBao.start("cluster-" + n.name, List.of("server", "-config=" + n.config));
        Node first = nodes.get(0);
        JsonNode init = null;
        for (long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60); init == null && System.nanoTime() < until; ) {
            try {
                init = LocalBao.call(first.address, null, "PUT", "sys/init", "{\"secret_shares\":1,\"secret_threshold\":1}");
            } catch (IOException notYet) {
                LocalBao.sleep(100);
            }
        }
        if (init == null) {
            for (Node n : nodes) VaultExtension.stop(n.process);
            throw new AssertionError("cluster node at " + first.address + " never answered sys/init within 60 s");
        }
        String key = Leaks.track(init.path("keys_base64").get(0).asString());
        String token = Leaks.track(init.path("root_token").asString());
        LocalCluster c = new LocalCluster(nodes, token, key);
        try {
            c.unseal(first);
            LocalBao.awaitActive(first.process, first.address);
            for (Node n : nodes.subList(1, nodes.size())) {
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (true) {
                    try {
                        LocalBao.call(n.address, null, "PUT", "sys/storage/raft/join",
                                "{\"leader_api_addr\":\"" + first.address + "\"}");
                        break;
                    } catch (IOException notYet) { // a node still starting, or a leader not yet serving joins
                        if (System.nanoTime() > until) throw new AssertionError(n.name + " could not join: " + notYet.getMessage());
                        LocalBao.sleep(200);
                    }
                }
                c.unseal(n);
            }
            LocalBao.call(first.address, token, "POST", "sys/mounts/secret", "{\"type\":\"kv\",\"options\":{\"version\":\"2\"}}");
            LocalBao.call(first.address, token, "POST", "sys/auth/approle", "{\"type\":\"approle\"}");
            c.awaitVoters(size);
            return c;
        } catch (IOException | RuntimeException | Error e) {
            c.close();
            throw e;
        }
    }

    /** The cluster through node {@code i} (0-based), with the root token. */
    public TestVault via(int i) {
        Node n = nodes.get(i);
        return new TestVault(n.address, token, "bao cluster " + n.name);
    }

    public int size() {
        return nodes.size();
    }

    public URI address(int i) {
        return nodes.get(i).address;
    }

    /** The node that is active now (waiting up to a minute for an election to end). */
    public int leader() {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < until) {
            for (int i = 0; i < nodes.size(); i++) {
                if (health(i) == 200) return i;
            }
            LocalBao.sleep(100);
        }
        throw new AssertionError("no node of the cluster became active within 60 s");
    }

    /** A node that is up and unsealed but not the leader. */
    public int standby() {
        int leader = leader();
        for (int i = 0; i < nodes.size(); i++) {
            if (i != leader && health(i) == 429) return i;
        }
        throw new AssertionError("the cluster has no standby up");
    }

    /** {@code sys/health} of one node: 200 active, 429 standby, 503 sealed, 0 for no answer. */
    public int health(int i) {
        try {
            return LocalBao.status(nodes.get(i).address, "sys/health");
        } catch (IOException down) {
            return 0;
        }
    }

    /** SIGKILLs a node. */
    public void kill(int i) {
        Node n = nodes.get(i);
        if (n.process == null) return;
        n.process.destroyForcibly();
        try {
            n.process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        n.process = null;
    }

    /** Pauses a node (SIGSTOP): it takes no part until {@link #resume}, and falls behind. */
    public void pause(int i) {
        signal(i, "STOP");
    }

    public void resume(int i) {
        signal(i, "CONT");
    }

    /** Starts a killed node again on its storage and unseals it; it rejoins as a standby or leader. */
    public void restart(int i) throws IOException {
        Node n = nodes.get(i);
        if (n.process != null) throw new IllegalStateException(n.name + " is running");
        n.process = LocalBao.start("cluster-" + n.name, List.of("server", "-config=" + n.config));
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try {
                unseal(n);
                awaitFollowing(n, until);
                return;
            } catch (IOException notYet) {
                if (!n.process.isAlive()) throw new AssertionError(n.name + " exited with " + n.process.exitValue());
                if (System.nanoTime() > until) throw new AssertionError(n.name + " could not be unsealed: " + notYet.getMessage());
                LocalBao.sleep(100);
            }
        }
    }

    /** Until the node knows the active node (a standby that just came back answers 500 before). */
    private static void awaitFollowing(Node n, long until) throws IOException {
        while (System.nanoTime() < until) {
            JsonNode l = LocalBao.call(n.address, null, "GET", "sys/leader", null);
            if (l.path("is_self").asBoolean(false) || !l.path("leader_address").asString("").isEmpty()) return;
            LocalBao.sleep(100);
        }
        throw new AssertionError(n.name + " knew no active node 30 s after its start");
    }

    private void unseal(Node n) throws IOException {
        LocalBao.call(n.address, null, "PUT", "sys/unseal", LocalBao.JSON.writeValueAsString(Map.of("key", unsealKey)));
    }

    private void awaitVoters(int size) throws IOException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (System.nanoTime() < until) {
            JsonNode c = LocalBao.call(nodes.get(0).address, token, "GET", "sys/storage/raft/configuration", null);
            int voters = 0;
            for (JsonNode s : c.path("data").path("config").path("servers")) if (s.path("voter").asBoolean(false)) voters++;
            if (voters == size) return;
            LocalBao.sleep(250);
        }
        throw new AssertionError("the cluster did not count " + size + " voters within 90 s");
    }

    private void signal(int i, String signal) {
        Process p = nodes.get(i).process;
        if (p == null) return;
        try {
            new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).inheritIO().start().waitFor();
        } catch (IOException e) {
            throw new AssertionError("cannot send SIG" + signal + " to " + nodes.get(i).name, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        for (int i = 0; i < nodes.size(); i++) {
            resume(i);
            Process p = nodes.get(i).process;
            if (p != null) VaultExtension.stop(p);
        }
    }
}
