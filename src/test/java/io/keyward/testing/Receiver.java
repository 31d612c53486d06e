package io.keyward.testing;

import com.sun.net.httpserver.HttpServer;
import io.keyward.target.Signer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real local HTTP receiver for webhook targets, notifications and health checks: it checks
 * every signature with the shared key (as a receiving app would), records what came, and answers
 * with the status the test sets.
 */
public final class Receiver implements AutoCloseable {

    /** One request as received; {@code signed} is the receiver's own verdict on its signature. */
    public record Request(String method, String path, String body, String idempotencyKey, boolean signed) {}

    private final HttpServer server;
    private final byte[] key;
    private final List<Request> requests = Collections.synchronizedList(new ArrayList<>());
    private final AtomicInteger status = new AtomicInteger(200);

    private Receiver(HttpServer server, byte[] key) {
        this.server = server;
        this.key = key;
    }

    public static Receiver start(String signingKey) throws IOException {
        HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        Receiver r = new Receiver(s, signingKey == null ? null : signingKey.getBytes(StandardCharsets.UTF_8));
        s.createContext("/", ex -> {
            String body;
            try (InputStream in = ex.getRequestBody()) {
                body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            boolean signed = false;
            String ts = ex.getRequestHeaders().getFirst(Signer.TIMESTAMP);
            if (r.key != null && ts != null) {
                try {
                    signed = Signer.verify(r.key, Long.parseLong(ts), body, ex.getRequestHeaders().getFirst(Signer.SIGNATURE));
                } catch (NumberFormatException e) {
                    signed = false;
                }
            }
            r.requests.add(new Request(ex.getRequestMethod(), ex.getRequestURI().getPath(), body,
                    ex.getRequestHeaders().getFirst("Idempotency-Key"), signed));
            ex.sendResponseHeaders(r.status.get(), -1);
            ex.close();
        });
        s.start();
        return r;
    }

    public URI url(String path) {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
    }

    /** The status every following request gets. */
    public void answer(int code) {
        status.set(code);
    }

    public List<Request> requests() {
        synchronized (requests) {
            return List.copyOf(requests);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
