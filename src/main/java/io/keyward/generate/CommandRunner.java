package io.keyward.generate;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a program as an argument list (no shell), feeding it standard input, with a timeout.
 * Standard output is returned; standard error goes to the log with every known secret removed.
 */
final class CommandRunner {

    private static final Logger LOG = LoggerFactory.getLogger(CommandRunner.class);
    private static final int MAX_OUTPUT = 1 << 20;

    /** What a program printed and how it ended. */
    record Result(int exitCode, String stdout) {}

    private CommandRunner() {}

    static Result run(List<String> argv, String stdin, Map<String, String> env, Duration timeout,
                      Collection<String> hide) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(argv);
        pb.environment().putAll(env);
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new IOException("cannot start " + argv.get(0) + ": " + e.getMessage());
        }
        CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> readAll(p.getInputStream()));
        CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
        try (OutputStream in = p.getOutputStream()) {
            if (stdin != null) in.write(stdin.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            // the program did not read its input; its exit code tells the rest
        }
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new IOException(argv.get(0) + " did not finish within " + timeout.toMillis() + " ms");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException(argv.get(0) + " was interrupted");
        }
        String stdout = new String(out.join(), StandardCharsets.UTF_8);
        String stderr = new String(err.join(), StandardCharsets.UTF_8).strip();
        if (!stderr.isEmpty()) {
            String clean = stderr;
            List<String> secrets = new java.util.ArrayList<>(hide);
            secrets.add(stdout.strip()); // a generator's or issuer's output is the new value
            for (String h : secrets) if (h != null && h.length() >= 4) clean = clean.replace(h, "[hidden]");
            LOG.info("{} (exit {}) said: {}", argv.get(0), p.exitValue(), clean.length() > 2000 ? clean.substring(0, 2000) : clean);
        }
        return new Result(p.exitValue(), stdout);
    }

    private static byte[] readAll(InputStream in) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        byte[] b = new byte[8192];
        try (in) {
            int n;
            while ((n = in.read(b)) >= 0) {
                if (buf.size() < MAX_OUTPUT) buf.write(b, 0, Math.min(n, MAX_OUTPUT - buf.size()));
            }
        } catch (IOException e) {
            // the process went away; what was read is what there is
        }
        return buf.toByteArray();
    }
}
