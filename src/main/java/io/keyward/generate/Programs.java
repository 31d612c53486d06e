package io.keyward.generate;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one way keyward runs a program (generators, issuers, reload and health commands): an
 * argument list (no shell), extra environment, optional standard input, a timeout after which
 * the program and every process it started are killed, and at most {@link #MAX_OUTPUT} bytes
 * kept of each output stream (the rest is read and dropped, so a program never blocks on a full
 * pipe). What it prints goes to the log with every known secret removed.
 */
public final class Programs {

    private static final Logger LOG = LoggerFactory.getLogger(Programs.class);
    /** Bytes kept of standard output and of standard error. */
    public static final int MAX_OUTPUT = 1 << 20;
    private static final int LOGGED = 2000;

    /** How a program ended and what it printed on standard output. */
    public record Result(int exitCode, String stdout) {}

    private Programs() {}

    /**
     * Runs {@code argv}. {@code secretOutput}: standard output is the new value (a generator's,
     * an issuer's), so it is returned and never logged, and removed from standard error before
     * that is logged; otherwise both streams are logged. A program that cannot start or runs past
     * {@code timeout} is an IOException naming {@code what} and the program.
     */
    public static Result run(String what, List<String> argv, String stdin, Map<String, String> env, Duration timeout,
                             Collection<String> hide, boolean secretOutput) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(argv);
        pb.environment().putAll(env);
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new IOException(what + ": cannot start " + argv.get(0) + ": " + e.getMessage());
        }
        CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> head(p.getInputStream()));
        CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> head(p.getErrorStream()));
        try (OutputStream in = p.getOutputStream()) {
            if (stdin != null) in.write(stdin.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            // the program did not read its input; its exit code tells the rest
        }
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                killTree(p);
                throw new IOException(what + ": " + argv.get(0) + " did not finish within " + timeout.toMillis() + " ms");
            }
        } catch (InterruptedException e) {
            killTree(p);
            Thread.currentThread().interrupt();
            throw new IOException(what + ": " + argv.get(0) + " was interrupted");
        }
        String stdout = new String(out.join(), StandardCharsets.UTF_8);
        String stderr = new String(err.join(), StandardCharsets.UTF_8).strip();
        List<String> secrets = new ArrayList<>(hide);
        if (secretOutput) secrets.add(stdout.strip());
        String said = secretOutput ? stderr : (stdout.strip() + (stderr.isEmpty() ? "" : "\n" + stderr)).strip();
        if (!said.isEmpty()) {
            for (String h : secrets) if (h != null && h.length() >= 4) said = said.replace(h, "[hidden]");
            LOG.info("{}: {} (exit {}) said: {}", what, argv.get(0), p.exitValue(),
                    said.length() > LOGGED ? said.substring(0, LOGGED) : said);
        }
        return new Result(p.exitValue(), stdout);
    }

    /** The program and everything it started (a shell's children too). */
    private static void killTree(Process p) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
    }

    private static byte[] head(InputStream in) {
        try (in) {
            byte[] head = in.readNBytes(MAX_OUTPUT);
            in.transferTo(OutputStream.nullOutputStream());
            return head;
        } catch (IOException e) {
            return new byte[0]; // the process went away
        }
    }
}
