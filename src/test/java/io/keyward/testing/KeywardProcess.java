package io.keyward.testing;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.newsclub.net.unix.AFUNIXDatagramSocket;
import org.newsclub.net.unix.AFUNIXSocketAddress;

/**
 * {@code keyward run} as a separate JVM, the way systemd runs it (a Unix datagram socket as its
 * NOTIFY_SOCKET): started, awaited READY, killed with SIGKILL or stopped with SIGTERM, started
 * again. Its output goes to {@code logs/NAME.out} and {@code .err}, appended across restarts.
 */
public final class KeywardProcess implements AutoCloseable {

    private final String name;
    private final Path config;
    private final Path logs;
    private final Map<String, String> env;
    private AFUNIXDatagramSocket notify;
    private Process process;
    private final List<String> received = new ArrayList<>();

    /** The command before {@code run -c CONFIG}: the JVM on the test classpath, or a launcher. */
    private final List<String> launch;

    public KeywardProcess(String name, Path config, Path logs, Map<String, String> env) {
        this(name, config, logs, env, List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto",
                "-cp", System.getProperty("java.class.path"), "io.keyward.cli.Main"));
    }

    private KeywardProcess(String name, Path config, Path logs, Map<String, String> env, List<String> launch) {
        this.name = name;
        this.config = config;
        this.logs = logs;
        this.env = Map.copyOf(env);
        this.launch = List.copyOf(launch);
    }

    /** {@code keyward run} started through a launcher script (packaging/keyward as installed). */
    public static KeywardProcess launched(String name, Path launcher, Path config, Path logs, Map<String, String> env) {
        return new KeywardProcess(name, config, logs, env, List.of(launcher.toString()));
    }

    public String name() {
        return name;
    }

    /** Starts the process (a fresh notify socket each time). */
    public void start() throws IOException {
        if (alive()) throw new IllegalStateException(name + " is running");
        Path socket = Files.createTempDirectory("kw-notify").resolve("notify.sock");
        notify = AFUNIXDatagramSocket.newInstance();
        notify.bind(AFUNIXSocketAddress.of(socket.toFile()));
        notify.setSoTimeout(200);
        received.clear();
        List<String> cmd = new ArrayList<>(List.of("env", "--default-signal=HUP,INT,TERM"));
        cmd.addAll(launch);
        cmd.addAll(List.of("run", "-c", config.toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logs.resolve(name + ".out").toFile()))
                .redirectError(ProcessBuilder.Redirect.appendTo(logs.resolve(name + ".err").toFile()));
        pb.environment().putAll(env);
        pb.environment().put("NOTIFY_SOCKET", socket.toString());
        process = pb.start();
    }

    /** Waits for READY=1; fails naming the log's end if it does not come. */
    public void awaitReady(int seconds) throws IOException {
        await("READY=1", seconds);
    }

    /**
     * Waits for a datagram with the line {@code state} (READY=1, WATCHDOG=1, STOPPING=1, ...) and
     * returns it; datagrams seen before are not looked at again.
     */
    public String await(String state, int seconds) throws IOException {
        return awaitLine(state::equals, state, seconds);
    }

    /** Waits for a datagram with a line that starts with {@code prefix} (STATUS=..., EXTEND_TIMEOUT_USEC=). */
    public String awaitStarting(String prefix, int seconds) throws IOException {
        return awaitLine(l -> l.startsWith(prefix), prefix + "...", seconds);
    }

    private String awaitLine(java.util.function.Predicate<String> wanted, String state, int seconds) throws IOException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        byte[] buf = new byte[4096];
        while (System.nanoTime() < until) {
            DatagramPacket p = new DatagramPacket(buf, buf.length);
            try {
                notify.receive(p);
            } catch (SocketTimeoutException e) {
                if (!alive()) break;
                continue;
            }
            String text = new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8);
            received.add(text);
            if (text.lines().anyMatch(wanted)) return text;
        }
        throw new AssertionError(name + " sent no " + state + " within " + seconds + " s (" + received + ")"
                + (alive() ? "" : "; it exited with " + process.exitValue()) + "; log: " + tail());
    }

    /** Waits until {@code file} exists; fails naming the log's end if it does not appear. */
    public void awaitFile(Path file, int seconds) throws Exception {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!Files.exists(file)) {
            if (System.nanoTime() > until) throw new AssertionError(file + " never appeared; log: " + tail());
            Thread.sleep(50);
        }
    }

    /** Sends a signal (HUP, TERM, ...). */
    public void signal(String signal) throws Exception {
        int code = new ProcessBuilder("kill", "-" + signal, String.valueOf(process.pid())).inheritIO().start().waitFor();
        if (code != 0) throw new AssertionError("kill -" + signal + " " + process.pid() + " failed");
    }

    /** Waits for the process to exit and returns its exit code. */
    public int awaitExit(int seconds) throws InterruptedException {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) throw new AssertionError(name + " did not exit within " + seconds + " s");
        closeSocket();
        return process.exitValue();
    }

    public boolean alive() {
        return process != null && process.isAlive();
    }

    public long pid() {
        return process.pid();
    }

    /** SIGKILL: the process dies at once, in whatever step it is. */
    public void kill() throws InterruptedException {
        if (process == null) return;
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        closeSocket();
    }

    /** SIGTERM; returns the exit code. */
    public int stop() throws Exception {
        if (!alive()) return process == null ? 0 : process.exitValue();
        signal("TERM");
        return awaitExit(60);
    }

    public String log() throws IOException {
        Path err = logs.resolve(name + ".err");
        return Files.exists(err) ? Files.readString(err) : "";
    }

    public String tail() throws IOException {
        String err = log();
        return err.length() > 3000 ? err.substring(err.length() - 3000) : err;
    }

    private void closeSocket() {
        if (notify != null) notify.close();
        notify = null;
    }

    @Override
    public void close() throws Exception {
        if (alive()) kill();
        closeSocket();
    }
}
