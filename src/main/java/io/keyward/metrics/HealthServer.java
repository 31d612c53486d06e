package io.keyward.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * The HTTP listener: {@code /metrics} (Prometheus text format), {@code /healthz} (the process
 * answers) and {@code /readyz} (200 when every readiness check passes, else 503 listing the
 * failing ones, one per line). GET and HEAD only; nothing here ever shows a secret value.
 */
public final class HealthServer implements AutoCloseable {

    private final HttpServer server;
    private final ExecutorService threads;

    private HealthServer(HttpServer server, ExecutorService threads) {
        this.server = server;
        this.threads = threads;
    }

    /**
     * Listens on {@code address}; {@code notReady} gives the reasons the agent is not ready (empty
     * when it is).
     */
    public static HealthServer start(InetSocketAddress address, Metrics metrics, Supplier<List<String>> notReady)
            throws IOException {
        HttpServer server;
        try {
            server = HttpServer.create(address, 16);
        } catch (java.net.BindException e) {
            throw new IOException("cannot listen for metrics on " + address.getHostString() + ":" + address.getPort()
                    + ": " + e.getMessage() + " (set metrics.listen to another address, or 'off')", e);
        }
        ExecutorService threads = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "keyward-http");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(threads);
        server.createContext("/metrics", x -> answer(x, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.scrape()));
        server.createContext("/healthz", x -> answer(x, 200, "text/plain; charset=utf-8", "ok\n"));
        server.createContext("/readyz", x -> {
            List<String> reasons = notReady.get();
            answer(x, reasons.isEmpty() ? 200 : 503, "text/plain; charset=utf-8",
                    reasons.isEmpty() ? "ready\n" : String.join("\n", reasons) + "\n");
        });
        server.createContext("/", x -> answer(x, 404, "text/plain; charset=utf-8", "try /metrics, /healthz or /readyz\n"));
        server.start();
        return new HealthServer(server, threads);
    }

    /** The port it listens on (useful when started on port 0). */
    public int port() {
        return server.getAddress().getPort();
    }

    private static void answer(HttpExchange x, int status, String type, String body) throws IOException {
        try (x) {
            String method = x.getRequestMethod();
            if (!"GET".equals(method) && !"HEAD".equals(method)) {
                x.getResponseHeaders().set("Allow", "GET, HEAD");
                x.sendResponseHeaders(405, -1);
                return;
            }
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            x.getResponseHeaders().set("Content-Type", type);
            x.getResponseHeaders().set("Cache-Control", "no-store");
            if ("HEAD".equals(method)) {
                x.sendResponseHeaders(status, -1);
                return;
            }
            x.sendResponseHeaders(status, bytes.length);
            try (OutputStream out = x.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
        threads.shutdownNow();
    }
}
