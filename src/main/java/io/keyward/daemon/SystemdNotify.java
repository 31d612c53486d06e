package io.keyward.daemon;

import java.io.IOException;
import java.net.DatagramPacket;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.newsclub.net.unix.AFUNIXDatagramSocket;
import org.newsclub.net.unix.AFUNIXSocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * sd_notify(3): state lines ("READY=1", "STATUS=...", "WATCHDOG=1") sent as one datagram to the
 * Unix socket systemd names in NOTIFY_SOCKET (a path, or "@name" in the abstract namespace).
 * Without NOTIFY_SOCKET (not started by systemd) nothing is sent. A failed send is logged, never
 * fatal: the service must not stop because its supervisor's socket hiccuped.
 */
public final class SystemdNotify implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SystemdNotify.class);

    private final AFUNIXDatagramSocket socket;
    private final String where;

    private SystemdNotify(AFUNIXDatagramSocket socket, String where) {
        this.socket = socket;
        this.where = where;
    }

    /** A notifier for NOTIFY_SOCKET in {@code env}, or one that sends nothing. */
    public static SystemdNotify from(Map<String, String> env) throws IOException {
        String name = env.get("NOTIFY_SOCKET");
        if (name == null || name.isBlank()) return new SystemdNotify(null, "");
        AFUNIXSocketAddress address = name.startsWith("@")
                ? AFUNIXSocketAddress.inAbstractNamespace(name.substring(1))
                : AFUNIXSocketAddress.of(new java.io.File(name));
        try {
            AFUNIXDatagramSocket socket = AFUNIXDatagramSocket.newInstance();
            socket.connect(address);
            return new SystemdNotify(socket, name);
        } catch (IOException | LinkageError | RuntimeException e) {
            throw new IOException("cannot open a datagram socket for NOTIFY_SOCKET " + name + ": " + e.getMessage(), e);
        }
    }

    public boolean enabled() {
        return socket != null;
    }

    /** Sends state lines joined by newlines, as one datagram. */
    public synchronized void send(String... states) {
        if (socket == null) return;
        byte[] body = String.join("\n", states).getBytes(StandardCharsets.UTF_8);
        try {
            socket.send(new DatagramPacket(body, body.length));
        } catch (IOException | RuntimeException e) {
            LOG.warn("cannot notify systemd at {}: {}", where, e.getMessage());
        }
    }

    /**
     * How often to send WATCHDOG=1: half of WATCHDOG_USEC, when it is set for this process (no
     * WATCHDOG_PID, or this process's pid). Empty when systemd watches nothing, or the value is not
     * a number (logged).
     */
    public static java.util.Optional<java.time.Duration> watchdogEvery(Map<String, String> env) {
        String usec = env.get("WATCHDOG_USEC");
        String pid = env.get("WATCHDOG_PID");
        if (usec == null || usec.isBlank()) return java.util.Optional.empty();
        if (pid != null && !pid.isBlank() && !pid.equals(String.valueOf(ProcessHandle.current().pid()))) {
            return java.util.Optional.empty();
        }
        try {
            return java.util.Optional.of(java.time.Duration.ofNanos(Math.max(1, Long.parseLong(usec.strip()) / 2) * 1000));
        } catch (NumberFormatException e) {
            LOG.warn("WATCHDOG_USEC '{}' is not a number; not sending watchdog pings", usec);
            return java.util.Optional.empty();
        }
    }

    /** A STATUS= line: one line of at most 200 characters, as systemctl status shows it. */
    public static String status(String text) {
        String line = text.replace('\n', ' ');
        return "STATUS=" + (line.length() > 200 ? line.substring(0, 197) + "..." : line);
    }

    @Override
    public void close() {
        if (socket != null) socket.close();
    }
}
