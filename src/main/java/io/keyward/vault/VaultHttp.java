package io.keyward.vault;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.channels.SocketChannel;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * A small blocking HTTP/1.1 client for Vault's API: at most {@code maxConnections} connections at
 * any moment (a request waits for a free one), kept alive and reused, each request answered on the
 * thread that sent it. Vault's answers are small JSON bodies, so this is all keyward needs, and it
 * costs a fraction of a general client's CPU per request. Failures surface as the JDK's own
 * exceptions: {@link java.net.ConnectException} (refused), {@link HttpConnectTimeoutException},
 * {@link HttpTimeoutException} (no answer in time), {@link javax.net.ssl.SSLException},
 * {@link EOFException} (closed before the answer) or a reset.
 */
final class VaultHttp implements AutoCloseable {

    /** An answer: status, body (empty for none) and where a redirect points (null for none). */
    record Answer(int status, byte[] body, String location) {}

    /** An idle connection is dropped after this long, well before Vault closes it (its default is 5 minutes). */
    static final Duration IDLE = Duration.ofSeconds(30);
    private static final int MAX_BODY = 32 * 1024 * 1024;
    /** Ends requests on Unix domain sockets that outlive the request timeout (one daemon thread for every client). */
    private static final java.util.concurrent.ScheduledExecutorService TIMEOUTS =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "keyward-vault-timeouts");
                t.setDaemon(true);
                return t;
            });

    private final String host;
    private final int port;
    /** A Unix domain socket ({@code unix:///path}: a local Vault Proxy or Agent listener), or null for TCP. */
    private final java.nio.file.Path socketFile;
    private final String hostHeader;
    private final SSLContext tls;
    private final boolean verifyHost;
    private final int connectMillis;
    private final int requestMillis;
    private final Optional<String> namespace;
    private final ReadIndex index;
    /** The name asked for in TLS (SNI) and verified against the certificate. */
    private final String tlsName;
    private final Semaphore permits;
    private final int max;
    private final Deque<Connection> idle = new ArrayDeque<>();
    private int open;
    private int peak;
    private volatile boolean closed;

    VaultHttp(URI address, SSLContext tls, boolean verifyHost, Duration connectTimeout, Duration requestTimeout,
              int maxConnections, Optional<String> namespace) {
        this(address, tls, verifyHost, connectTimeout, requestTimeout, maxConnections, namespace, new ReadIndex(),
                Optional.empty());
    }

    /**
     * {@code index}: the newest storage state seen, shared by every client of one Vault (see
     * {@link ReadIndex}); {@code serverName}: the TLS name to ask for and verify, else the address's host.
     */
    VaultHttp(URI address, SSLContext tls, boolean verifyHost, Duration connectTimeout, Duration requestTimeout,
              int maxConnections, Optional<String> namespace, ReadIndex index, Optional<String> serverName) {
        boolean https = "https".equalsIgnoreCase(address.getScheme());
        this.socketFile = "unix".equalsIgnoreCase(address.getScheme()) ? java.nio.file.Path.of(address.getPath()) : null;
        this.host = socketFile != null ? "localhost" : address.getHost();
        this.port = address.getPort() > 0 ? address.getPort() : https ? 443 : 80;
        this.hostHeader = address.getPort() > 0 ? host + ":" + port : host;
        this.tls = https ? (tls != null ? tls : defaultContext()) : null;
        this.verifyHost = verifyHost;
        this.connectMillis = millis(connectTimeout);
        this.requestMillis = millis(requestTimeout);
        this.namespace = namespace;
        this.index = index;
        this.tlsName = serverName.orElse(host);
        this.max = maxConnections;
        this.permits = new Semaphore(maxConnections);
    }

    /** The most connections open at one moment so far. */
    synchronized int peakConnections() {
        return peak;
    }

    /** Sends one request ({@code path} below {@code /v1/}); {@code token} may be null, {@code body} null for none. */
    Answer send(String method, String path, String token, byte[] body) throws IOException {
        return send(method, path, token, body, true);
    }

    /** {@code consistent}: with the newest index seen, so a standby behind it forwards; false asks the node itself. */
    Answer send(String method, String path, String token, byte[] body, boolean consistent) throws IOException {
        if (closed) throw new IOException("the Vault client is closed");
        try {
            if (!permits.tryAcquire(requestMillis, TimeUnit.MILLISECONDS)) {
                throw new Busy("all " + max + " connections to Vault stayed busy for " + requestMillis / 1000 + " s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while waiting for a connection to Vault");
        }
        try {
            Connection c = reuse(!method.equals("GET"));
            if (c != null) {
                try {
                    return exchange(c, method, path, token, body, consistent);
                } catch (StaleConnection stale) {
                    // closed by Vault while idle: a read goes again on a new connection; a write may have been
                    // read before the close, so its caller learns that the answer was lost
                    if (!method.equals("GET")) throw new EOFException("connection closed before Vault answered");
                }
            }
            return exchange(connect(), method, path, token, body, consistent);
        } finally {
            permits.release();
        }
    }

    private Answer exchange(Connection c, String method, String path, String token, byte[] body, boolean consistent)
            throws IOException {
        boolean keep = false;
        java.util.concurrent.ScheduledFuture<?> deadline = null;
        try {
            if (c.socket != null) c.socket.setSoTimeout(requestMillis);
            else deadline = TIMEOUTS.schedule(c::expire, requestMillis, TimeUnit.MILLISECONDS); // a channel has no read timeout
            c.out.write(head(method, path, token, body, consistent));
            if (body != null) c.out.write(body);
            c.out.flush();
            Answer a = read(c);
            keep = c.keepAlive;
            return a;
        } catch (SocketTimeoutException e) {
            throw new HttpTimeoutException("no answer within " + requestMillis / 1000 + " s");
        } catch (IOException e) {
            if (c.expired) throw new HttpTimeoutException("no answer within " + requestMillis / 1000 + " s");
            throw e;
        } finally {
            if (deadline != null) deadline.cancel(false);
            if (keep) release(c);
            else drop(c);
        }
    }

    private byte[] head(String method, String path, String token, byte[] body, boolean consistent) {
        StringBuilder h = new StringBuilder(256).append(method).append(" /v1/").append(path).append(" HTTP/1.1\r\n")
                .append("Host: ").append(hostHeader).append("\r\n")
                .append("X-Vault-Request: true\r\n")
                .append("Accept: application/json\r\n");
        if (token != null) h.append("X-Vault-Token: ").append(token).append("\r\n");
        namespace.ifPresent(ns -> h.append("X-Vault-Namespace: ").append(ns).append("\r\n"));
        String seen = consistent ? index.current() : null;
        if (seen != null) {
            h.append(ReadIndex.HEADER).append(": ").append(seen).append("\r\n")
                    .append(ReadIndex.INCONSISTENT).append(": ").append(ReadIndex.FORWARD).append("\r\n");
        }
        if (body != null) {
            h.append("Content-Type: application/json\r\nContent-Length: ").append(body.length).append("\r\n");
        } else if (!method.equals("GET")) {
            h.append("Content-Length: 0\r\n");
        }
        return h.append("\r\n").toString().getBytes(StandardCharsets.UTF_8);
    }

    private Answer read(Connection c) throws IOException {
        int status;
        long length = -1;
        boolean chunked = false;
        String location = null;
        c.keepAlive = true;
        while (true) {
            String line = line(c.in, c.reused);
            String[] parts = line.split(" ", 3);
            if (parts.length < 2 || !parts[0].startsWith("HTTP/")) throw new IOException("not an HTTP answer from Vault");
            status = Integer.parseInt(parts[1]);
            if (parts[0].equals("HTTP/1.0")) c.keepAlive = false;
            for (String h = line(c.in, false); !h.isEmpty(); h = line(c.in, false)) {
                int colon = h.indexOf(':');
                if (colon < 0) continue;
                String name = h.substring(0, colon).trim().toLowerCase(Locale.ROOT);
                String value = h.substring(colon + 1).trim();
                switch (name) {
                    case "content-length" -> length = Long.parseLong(value);
                    case "transfer-encoding" -> chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
                    case "connection" -> c.keepAlive = c.keepAlive && !value.equalsIgnoreCase("close");
                    case "x-vault-index" -> index.seen(value);
                    case "location" -> location = value;
                    default -> { }
                }
            }
            if (status >= 200) break; // 1xx: an interim answer, the real one follows
        }
        if (status == 204 || status == 304) return new Answer(status, new byte[0], location);
        if (chunked) return new Answer(status, chunks(c.in), location);
        if (length >= 0) {
            if (length > MAX_BODY) throw new IOException("Vault's answer is too large (" + length + " bytes)");
            byte[] body = c.in.readNBytes((int) length);
            if (body.length < length) throw new EOFException("connection closed before Vault's answer ended");
            return new Answer(status, body, location);
        }
        c.keepAlive = false; // the body ends when the connection does
        return new Answer(status, limited(c.in), location);
    }

    private static byte[] chunks(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while (true) {
            String size = line(in, false);
            int semi = size.indexOf(';');
            int n = Integer.parseInt((semi < 0 ? size : size.substring(0, semi)).trim(), 16);
            if (n == 0) {
                while (!line(in, false).isEmpty()) {
                    // trailers
                }
                return out.toByteArray();
            }
            if (out.size() + n > MAX_BODY) throw new IOException("Vault's answer is too large");
            byte[] chunk = in.readNBytes(n);
            if (chunk.length < n) throw new EOFException("connection closed before Vault's answer ended");
            out.write(chunk);
            line(in, false);
        }
    }

    private static byte[] limited(InputStream in) throws IOException {
        byte[] b = in.readNBytes(MAX_BODY + 1);
        if (b.length > MAX_BODY) throw new IOException("Vault's answer is too large");
        return b;
    }

    /** A CRLF-ended line; {@code first}: the start of an answer on a reused connection, where EOF means stale. */
    private static String line(InputStream in, boolean first) throws IOException {
        StringBuilder s = new StringBuilder(64);
        while (true) {
            int b;
            try {
                b = in.read();
            } catch (java.net.SocketException reset) {
                if (first && s.length() == 0) throw new StaleConnection();
                throw reset;
            }
            if (b < 0) {
                if (first && s.length() == 0) throw new StaleConnection();
                throw new EOFException("connection closed before Vault answered");
            }
            if (b == '\n') {
                int end = s.length();
                if (end > 0 && s.charAt(end - 1) == '\r') s.setLength(end - 1);
                return s.toString();
            }
            if (s.length() > 16 * 1024) throw new IOException("an answer line from Vault is too long");
            s.append((char) b);
        }
    }

    /** No connection became free in time: the request was never sent. */
    static final class Busy extends IOException {
        private static final long serialVersionUID = 1L;

        Busy(String message) {
            super(message);
        }
    }

    /** A reused connection that Vault had closed: nothing of the answer arrived. */
    private static final class StaleConnection extends EOFException {
        private static final long serialVersionUID = 1L;

        StaleConnection() {
            super("connection closed before Vault answered");
        }
    }

    /**
     * An idle connection, or null. {@code check}: for a request that must not be sent twice, a
     * connection Vault has closed meanwhile is found out before use (a read that would not block).
     */
    private Connection reuse(boolean check) {
        long now = System.nanoTime();
        while (true) {
            Connection c;
            synchronized (this) {
                c = idle.pollFirst();
            }
            if (c == null) return null;
            if (now - c.idleSince < IDLE.toNanos() && (!check || c.open())) {
                c.reused = true;
                return c;
            }
            drop(c);
        }
    }

    private Connection connect() throws IOException {
        if (socketFile != null) {
            SocketChannel unix = SocketChannel.open(java.net.StandardProtocolFamily.UNIX);
            try {
                unix.connect(java.net.UnixDomainSocketAddress.of(socketFile));
            } catch (IOException | RuntimeException e) {
                unix.close();
                if (e instanceof java.net.SocketException && !(e instanceof java.net.ConnectException)) {
                    throw new java.net.ConnectException("cannot connect to " + socketFile + ": " + e.getMessage());
                }
                throw e;
            }
            synchronized (this) {
                open++;
                peak = Math.max(peak, open);
            }
            return new Connection(unix, null);
        }
        SocketChannel channel = SocketChannel.open();
        Socket s = channel.socket();
        try {
            s.setTcpNoDelay(true);
            try {
                s.connect(new InetSocketAddress(host, port), connectMillis);
            } catch (SocketTimeoutException e) {
                throw new HttpConnectTimeoutException("could not connect within " + connectMillis / 1000 + " s");
            }
            if (tls != null) {
                SSLSocket ssl = (SSLSocket) tls.getSocketFactory().createSocket(s, tlsName, port, true);
                s = ssl;
                SSLParameters p = ssl.getSSLParameters();
                if (verifyHost) p.setEndpointIdentificationAlgorithm("HTTPS");
                ssl.setSSLParameters(p);
                ssl.setSoTimeout(requestMillis);
                try {
                    ssl.startHandshake();
                } catch (SocketTimeoutException e) {
                    throw new HttpTimeoutException("no TLS handshake within " + requestMillis / 1000 + " s");
                }
            }
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
        synchronized (this) {
            open++;
            peak = Math.max(peak, open);
        }
        return new Connection(channel, s);
    }

    private void release(Connection c) {
        c.idleSince = System.nanoTime();
        c.reused = false;
        synchronized (this) {
            if (!closed) {
                idle.addFirst(c);
                return;
            }
        }
        drop(c);
    }

    private void drop(Connection c) {
        try {
            if (c.socket != null) c.socket.close();
            else c.channel.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        synchronized (this) {
            open--;
        }
    }

    @Override
    public void close() {
        closed = true;
        Connection c;
        while (true) {
            synchronized (this) {
                c = idle.pollFirst();
            }
            if (c == null) return;
            drop(c);
        }
    }

    private static final class Connection {
        final SocketChannel channel;
        /** The TCP (or TLS) socket; null for a Unix domain socket, which is used through its channel. */
        final Socket socket;
        final InputStream in;
        final OutputStream out;
        long idleSince;
        boolean reused;
        boolean keepAlive;
        volatile boolean expired;

        Connection(SocketChannel channel, Socket socket) throws IOException {
            this.channel = channel;
            this.socket = socket;
            this.in = new BufferedInputStream(socket != null ? socket.getInputStream()
                    : java.nio.channels.Channels.newInputStream(channel), 16 * 1024);
            this.out = new java.io.BufferedOutputStream(socket != null ? socket.getOutputStream()
                    : java.nio.channels.Channels.newOutputStream(channel), 8 * 1024);
        }

        /** The request timeout ran out on a Unix domain socket: closing it ends the blocked read. */
        void expire() {
            expired = true;
            try {
                channel.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }

        /** Not closed or reset by Vault while idle: nothing to read, and no end of stream. */
        boolean open() {
            try {
                synchronized (channel.blockingLock()) {
                    channel.configureBlocking(false);
                    try {
                        return channel.read(java.nio.ByteBuffer.allocate(1)) == 0;
                    } finally {
                        channel.configureBlocking(true);
                    }
                }
            } catch (IOException e) {
                return false;
            }
        }
    }

    private static SSLContext defaultContext() {
        try {
            return SSLContext.getDefault();
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("no TLS in this Java runtime", e);
        }
    }

    private static int millis(Duration d) {
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, d.toMillis()));
    }
}
