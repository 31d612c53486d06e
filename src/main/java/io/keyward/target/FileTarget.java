package io.keyward.target;

import io.keyward.policy.Policy;
import io.keyward.rotation.Plugins;
import io.keyward.rotation.SecretData;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Writes one field of the secret to a file: a temporary file in the same folder, fsync, then an
 * atomic rename, so a reader sees the old file or the new one, never a part. An empty or missing
 * value is never written.
 */
final class FileTarget implements Plugins.Target {

    private final Policy.TargetSpec.File spec;

    FileTarget(Policy.TargetSpec.File spec) {
        this.spec = spec;
    }

    @Override
    public String id() {
        return spec.id();
    }

    @Override
    public void deliver(String secretId, int version, SecretData value) throws IOException {
        String text = value.string(spec.field()).orElse("");
        if (text.isEmpty()) {
            throw new Plugins.Rejected("field '" + spec.field() + "' of " + secretId + " v" + version
                    + " is empty or missing: not writing " + spec.path());
        }
        Path dir = spec.path().toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + spec.path().getFileName() + ".", ".tmp",
                PosixFilePermissions.asFileAttribute(spec.mode()));
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer buf = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
                while (buf.hasRemaining()) ch.write(buf);
                ch.force(true);
            }
            Files.setPosixFilePermissions(tmp, spec.mode());
            try {
                Files.move(tmp, spec.path(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("cannot replace " + spec.path() + " atomically: " + e.getMessage());
            }
            try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                d.force(true);
            } catch (IOException ignored) {
                // some file systems cannot sync a folder; the rename is still atomic
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    @Override
    public String toString() {
        return "FileTarget[" + spec.id() + " -> " + spec.path() + "]";
    }
}
