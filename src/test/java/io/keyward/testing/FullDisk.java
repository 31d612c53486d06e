package io.keyward.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A folder on a small tmpfs (256 KiB) that a test fills up and frees again, or makes read-only. Mounting needs root,
 * as CI has: under CI (the CI variable set) a failed mount fails the test; elsewhere the test is
 * skipped, saying why. On close the folder's files are copied beside it (so that the leak scan
 * reads what a test wrote under target/test-logs) and
 * the tmpfs is unmounted (lazily: a file a test left open does not keep it).
 */
public final class FullDisk implements AutoCloseable {

    private final Path dir;

    private FullDisk(Path dir) {
        this.dir = dir;
    }

    /** A fresh tmpfs folder under target/test-logs (read by the leak scan: audit files, logs). */
    public static FullDisk fresh(String name) throws IOException, InterruptedException {
        return at(TestDirs.fresh(name).resolve("disk"));
    }

    /** A fresh tmpfs folder for files that hold secrets (targets), outside what the leak scan reads. */
    public static FullDisk forSecrets(String name) throws IOException, InterruptedException {
        return at(TestDirs.credentials(name).resolve("disk"));
    }

    private static FullDisk at(Path dir) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", dir.toString())
                .redirectErrorStream(true).start();
        boolean done = p.waitFor(10, TimeUnit.SECONDS);
        if (!done || p.exitValue() != 0) {
            String why = "cannot mount a tmpfs at " + dir + " (needs root): "
                    + new String(p.getInputStream().readAllBytes()).strip();
            if (System.getenv("CI") != null) throw new IllegalStateException(why);
            Assumptions.abort(why);
        }
        return new FullDisk(dir);
    }

    public Path dir() {
        return dir;
    }

    /** Leaves no room: a filler file takes every free block. */
    public void fill() throws IOException {
        try (OutputStream out = Files.newOutputStream(dir.resolve("filler"))) {
            byte[] block = new byte[4096];
            while (true) out.write(block);
        } catch (IOException full) {
            // no space left: as intended
        }
    }

    /** Remounts the tmpfs read-only, or writable again. */
    public void readOnly(boolean on) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("mount", "-o", "remount," + (on ? "ro" : "rw"), dir.toString())
                .redirectErrorStream(true).start();
        if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("cannot remount " + dir + (on ? " read-only: " : " writable: ")
                    + new String(p.getInputStream().readAllBytes()).strip());
        }
    }

    /** Makes room again. */
    public void free() throws IOException {
        Files.deleteIfExists(dir.resolve("filler"));
    }

    @Override
    public void close() throws Exception {
        Path copy = dir.resolveSibling("disk-copy");
        Files.createDirectories(copy);
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                if (!f.getFileName().toString().equals("filler")) Files.copy(f, copy.resolve(f.getFileName()));
            }
        }
        new ProcessBuilder(List.of("umount", "--lazy", dir.toString())).inheritIO().start().waitFor(10, TimeUnit.SECONDS);
    }
}
