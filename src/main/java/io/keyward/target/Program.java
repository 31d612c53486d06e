package io.keyward.target;

import java.io.IOException;
import java.io.InputStream;
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
 * Runs a reload command or a health command: argument list, no input, extra environment, a
 * timeout. What it prints goes to the log with every value of the secret removed.
 */
final class Program {

    private static final Logger LOG = LoggerFactory.getLogger(Program.class);
    private static final int MAX_OUTPUT = 64 * 1024;

    private Program() {}

    /** What a program run for a target gets in its environment: which secret, version and target, never the value. */
    static Map<String, String> env(String secretId, int version, String target) {
        return Map.of("KEYWARD_SECRET_ID", secretId, "KEYWARD_VERSION", String.valueOf(version), "KEYWARD_TARGET", target);
    }

    /** The secret's values, to be removed from whatever a program prints. */
    static List<String> values(io.keyward.rotation.SecretData value) {
        return value.fields().values().stream().map(String::valueOf).toList();
    }

    /** The exit code; a program that cannot start or runs too long is an IOException naming it. */
    static int run(String what, List<String> argv, Map<String, String> env, Duration timeout, Collection<String> hide)
            throws IOException {
        ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new IOException(what + ": cannot start " + argv.get(0) + ": " + e.getMessage());
        }
        p.getOutputStream().close();
        CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> readAll(p.getInputStream()));
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                throw new IOException(what + ": " + argv.get(0) + " did not finish within " + timeout.toMillis() + " ms");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException(what + ": interrupted");
        }
        String text = new String(out.join(), StandardCharsets.UTF_8).strip();
        if (!text.isEmpty()) {
            for (String h : hide) if (h != null && h.length() >= 4) text = text.replace(h, "[hidden]");
            LOG.info("{}: {} (exit {}) said: {}", what, argv.get(0), p.exitValue(), text);
        }
        return p.exitValue();
    }

    /** The first {@code MAX_OUTPUT} bytes; the rest is read and dropped so the program never blocks on a full pipe. */
    private static byte[] readAll(InputStream in) {
        try (in) {
            byte[] head = in.readNBytes(MAX_OUTPUT);
            in.transferTo(java.io.OutputStream.nullOutputStream());
            return head;
        } catch (IOException e) {
            return new byte[0]; // the process went away
        }
    }
}
