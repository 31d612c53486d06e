package io.keyward.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * A loopback TCP proxy in front of a real server (OpenBao in the tests) that injects the faults
 * a network does: connections refused (nothing listens on the port), stalled (requests taken and
 * never answered), reset, and requests that reach the server while their answer is lost. It
 * reads HTTP/1.1 request heads to know which request is which; everything else is passed on as
 * bytes.
 */
public final class FaultProxy implements AutoCloseable {

    /** What happens to new connections and to requests on open ones. */
    public enum Mode {
        /** Passed on to the server. */
        FORWARD,
        /** Nothing listens: connections are refused. Open connections are closed. */
        REFUSE,
        /** Connections are accepted and requests read, never answered nor passed on. */
        STALL,
        /** Connections are reset (RST) as soon as they open or send a request. */
        RESET
    }

    /** A request as the proxy saw it. */
    public record Request(String method, String path) {
        public boolean writes() {
            return method.equals("POST") || method.equals("PUT") || method.equals("PATCH") || method.equals("DELETE");
        }
    }

    private final InetSocketAddress upstream;
    private final int port;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final AtomicInteger answersDropped = new AtomicInteger();
    private final AtomicInteger faults = new AtomicInteger();
    private final AtomicInteger accepted = new AtomicInteger();
    private final AtomicInteger clients = new AtomicInteger();
    private final AtomicInteger peakClients = new AtomicInteger();
    private volatile Mode mode = Mode.FORWARD;
    private volatile Predicate<Request> dropAnswer = r -> false;
    private volatile int dropBudget;
    /** Run once when the next answer is thrown away, before the client hears anything. */
    private volatile Runnable afterDrop = () -> {};
    private volatile ServerSocket server;
    private volatile Socket placeholder;
    private volatile boolean closed;

    private FaultProxy(InetSocketAddress upstream) throws IOException {
        this.upstream = upstream;
        ServerSocket s = listen(0);
        this.port = s.getLocalPort();
        this.server = s;
        acceptOn(s);
    }

    /** A proxy on a free loopback port in front of {@code upstream} (an http:// address). */
    public static FaultProxy in(URI upstream) {
        try {
            return new FaultProxy(new InetSocketAddress(upstream.getHost(), upstream.getPort()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The address clients use instead of the server's. */
    public URI address() {
        return URI.create("http://127.0.0.1:" + port);
    }

    public Mode mode() {
        return mode;
    }

    /** Switches the fault; {@link Mode#REFUSE} closes the listening socket, leaving it reopens it on the same port. */
    public synchronized void mode(Mode next) {
        if (next == mode) return;
        Mode before = mode;
        mode = next;
        if (next != Mode.FORWARD) faults.incrementAndGet();
        if (next == Mode.REFUSE) {
            closeQuietly(server);
            server = null;
            open.forEach(FaultProxy::closeQuietly);
            holdPort();
        } else if (before == Mode.REFUSE) {
            closeQuietly(placeholder);
            placeholder = null;
            try {
                ServerSocket s = listen(port);
                server = s;
                acceptOn(s);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot listen on port " + port + " again", e);
            }
        }
    }

    /**
     * The next {@code count} requests matching {@code which} are passed on to the server, and the
     * server's answer is thrown away: the client's connection is reset instead.
     */
    public synchronized void dropAnswers(Predicate<Request> which, int count) {
        dropAnswers(which, count, () -> {});
    }

    /** The same, and {@code then} runs when the first of those answers is thrown away (such as a switch to another fault). */
    public synchronized void dropAnswers(Predicate<Request> which, int count, Runnable then) {
        dropAnswer = which;
        dropBudget = count;
        afterDrop = then;
    }

    /** How many answers were thrown away after their request reached the server. */
    public int answersDropped() {
        return answersDropped.get();
    }

    /** How many faults were switched on, answers dropped included. */
    /** Client connections accepted so far. */
    public int accepted() {
        return accepted.get();
    }

    /** The most client connections open through the proxy at one moment. */
    public int peakClients() {
        return peakClients.get();
    }

    public int faults() {
        return faults.get() + answersDropped.get();
    }

    private synchronized boolean takeDrop(Request r) {
        if (dropBudget <= 0 || !dropAnswer.test(r)) return false;
        dropBudget--;
        answersDropped.incrementAndGet();
        return true;
    }

    /**
     * Keeps the port while refusing: a socket bound to it without listening, so connections are
     * refused and a server started meanwhile (in this JVM or another) is not handed the free port
     * and answers in the proxy's place. (SO_REUSEADDR lets it bind beside the proxy's closed
     * connections, still in TIME_WAIT on that port.)
     */
    private void holdPort() {
        for (int attempt = 0; attempt < 40; attempt++) { // the proxy's own closed connections may hold it a moment
            try {
                Socket s = new Socket();
                s.setReuseAddress(true);
                s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
                placeholder = s;
                return;
            } catch (IOException e) {
                try {
                    Thread.sleep(25);
                } catch (InterruptedException stop) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
        // not held: the port is merely free, as it would be with Vault stopped
    }

    private static ServerSocket listen(int port) throws IOException {
        ServerSocket s = new ServerSocket();
        s.setReuseAddress(true);
        s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 50);
        return s;
    }

    private void acceptOn(ServerSocket s) {
        Thread t = new Thread(() -> {
            while (!closed && !s.isClosed()) {
                try {
                    Socket client = s.accept();
                    open.add(client);
                    accepted.incrementAndGet();
                    int now = clients.incrementAndGet();
                    peakClients.accumulateAndGet(now, Math::max);
                    Thread c = new Thread(() -> serve(client), "fault-proxy-conn");
                    c.setDaemon(true);
                    c.start();
                } catch (IOException e) {
                    return; // closed
                }
            }
        }, "fault-proxy-accept");
        t.setDaemon(true);
        t.start();
    }

    private void serve(Socket client) {
        Socket server = null;
        try {
            if (mode == Mode.RESET || mode == Mode.REFUSE) {
                reset(client);
                return;
            }
            InputStream in = client.getInputStream();
            AtomicBoolean dropNext = new AtomicBoolean();
            while (true) {
                byte[] request = readRequest(in);
                if (request == null) return;
                Request r = head(request);
                Mode now = mode;
                if (now == Mode.RESET || now == Mode.REFUSE) { // REFUSE: a connection that outlived the switch
                    reset(client);
                    return;
                }
                if (now == Mode.STALL) {
                    in.transferTo(OutputStream.nullOutputStream()); // held until the client gives up
                    return;
                }
                if (server == null) {
                    server = new Socket();
                    server.connect(upstream, 5_000);
                    open.add(server);
                    Socket from = server;
                    Thread answers = new Thread(() -> answers(from, client, dropNext), "fault-proxy-answers");
                    answers.setDaemon(true);
                    answers.start();
                }
                if (takeDrop(r)) dropNext.set(true);
                server.getOutputStream().write(request);
                server.getOutputStream().flush();
            }
        } catch (IOException e) {
            // either side went away
        } finally {
            clients.decrementAndGet();
            forget(client);
            forget(server);
        }
    }

    /** Passes the server's answers on; one marked to drop is read and thrown away, and the client is reset. */
    private void answers(Socket server, Socket client, AtomicBoolean dropNext) {
        byte[] buf = new byte[16 * 1024];
        try {
            InputStream in = server.getInputStream();
            OutputStream out = client.getOutputStream();
            int n;
            while ((n = in.read(buf)) >= 0) {
                if (dropNext.get() || mode == Mode.STALL) {
                    if (mode != Mode.STALL) {
                        Runnable then = afterDrop;
                        afterDrop = () -> {};
                        then.run();
                        reset(client);
                        return;
                    }
                    continue; // stalled: the answer never arrives
                }
                out.write(buf, 0, n);
                out.flush();
            }
        } catch (IOException e) {
            // either side went away
        } finally {
            clients.decrementAndGet();
            forget(client);
            forget(server);
        }
    }

    private void forget(Socket s) {
        if (s == null) return;
        open.remove(s);
        closeQuietly(s);
    }

    /** One request (head and body by Content-Length), or null at the end of the stream. */
    private static byte[] readRequest(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int b;
        int state = 0; // matched part of \r\n\r\n
        while (state < 4) {
            b = in.read();
            if (b < 0) {
                if (head.size() == 0) return null;
                throw new IOException("connection closed inside a request head");
            }
            head.write(b);
            state = (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3)) ? state + 1
                    : (b == '\r' ? 1 : 0);
        }
        String text = head.toString(StandardCharsets.ISO_8859_1);
        int length = 0;
        for (String line : text.split("\r\n")) {
            String lower = line.toLowerCase(Locale.ROOT);
            if (lower.startsWith("content-length:")) length = Integer.parseInt(line.substring(15).strip());
            if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
                throw new IOException("chunked request bodies are not supported by the fault proxy");
            }
        }
        byte[] body = in.readNBytes(length);
        if (body.length < length) throw new IOException("connection closed inside a request body");
        head.write(body);
        return head.toByteArray();
    }

    private static Request head(byte[] request) {
        String text = new String(request, 0, Math.min(request.length, 2048), StandardCharsets.ISO_8859_1);
        String[] first = text.substring(0, text.indexOf("\r\n")).split(" ");
        return new Request(first[0], first.length > 1 ? first[1] : "");
    }

    private static void reset(Socket s) {
        try {
            s.setSoLinger(true, 0);
        } catch (SocketException e) {
            // closed already
        }
        closeQuietly(s);
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c == null) return;
        try {
            c.close();
        } catch (Exception e) {
            // closing anyway
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        closeQuietly(server);
        closeQuietly(placeholder);
        open.forEach(FaultProxy::closeQuietly);
    }
}
