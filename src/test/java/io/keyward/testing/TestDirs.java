package io.keyward.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;

/** Where tests write: every log and audit file goes under target/test-logs, which the leak scan reads. */
public final class TestDirs {

    private TestDirs() {}

    public static Path target() {
        String base = System.getProperty("keyward.basedir");
        return (base != null ? Path.of(base) : Path.of("").toAbsolutePath()).resolve("target");
    }

    /** The folder the leak scan reads, besides surefire's captured output. */
    public static Path logs() {
        return target().resolve("test-logs");
    }

    /**
     * A fresh folder for credential files (token, role and secret ids) that legitimately hold
     * secrets: outside target/test-logs, so the leak scan does not count them.
     */
    public static Path credentials(String name) {
        try {
            return Files.createDirectories(target().resolve("test-credentials")
                    .resolve(name + "-" + UUID.randomUUID().toString().substring(0, 8)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A fresh folder under target/test-logs for one test. */
    public static Path fresh(String name) {
        try {
            return Files.createDirectories(logs().resolve(name + "-" + UUID.randomUUID().toString().substring(0, 8)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
