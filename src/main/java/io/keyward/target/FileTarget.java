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
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.List;

/**
 * Writes a secret to a file: a temporary file in the same folder with the final mode, owner and
 * group, fsync, then an atomic rename and an fsync of the folder (shared by the files renamed into
 * it meanwhile: {@link FolderSync}), so a reader sees the old file or the new one, never a part,
 * and the new one survives a power cut before its delivery is recorded.
 * A value that is empty or missing is never written.
 */
final class FileTarget implements Plugins.Target {

    private final Policy.TargetSpec.File spec;
    private final List<String> fields;

    FileTarget(Policy.TargetSpec.File spec, List<String> fields) {
        this.spec = spec;
        this.fields = List.copyOf(fields);
    }

    @Override
    public String id() {
        return spec.id();
    }

    /**
     * Writes the file atomically. A failure names the target, its path and the cause (permission
     * denied, no space left, read-only file system), never the temporary file alone.
     */
    @Override
    public void deliver(String secretId, int version, SecretData value) throws IOException {
        writeText(render(secretId, version, value));
    }

    /** Writes this text atomically, as {@link #deliver} does once it has rendered the value. */
    void writeText(String text) throws IOException {
        try {
            write(text);
        } catch (Plugins.Rejected | Failed e) {
            throw e;
        } catch (IOException e) {
            throw new Failed("target " + spec.id() + ": cannot write " + spec.path() + ": " + FileErrors.cause(e));
        }
    }

    /** A failure whose message already names the target and its path. */
    private static final class Failed extends IOException {
        Failed(String message) {
            super(message);
        }
    }

    private void write(String text) throws IOException {
        Path dir = spec.path().toAbsolutePath().getParent();
        Path tmp;
        try {
            tmp = Files.createTempFile(dir, "." + spec.path().getFileName() + ".", ".tmp",
                    PosixFilePermissions.asFileAttribute(spec.mode()));
        } catch (java.nio.file.NoSuchFileException noFolder) {
            Files.createDirectories(dir);
            tmp = Files.createTempFile(dir, "." + spec.path().getFileName() + ".", ".tmp",
                    PosixFilePermissions.asFileAttribute(spec.mode()));
        }
        boolean moved = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer buf = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
                while (buf.hasRemaining()) ch.write(buf);
                ch.force(true);
            }
            Files.setPosixFilePermissions(tmp, spec.mode()); // the umask may have taken bits off
            own(tmp);
            try {
                Files.move(tmp, spec.path(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                moved = true;
            } catch (AtomicMoveNotSupportedException e) {
                throw new Failed("target " + spec.id() + ": cannot replace " + spec.path() + " atomically: " + e.getMessage());
            }
            // the rename survives a power cut before the delivery is recorded; one fsync of the folder serves every
            // file renamed into it meanwhile
            FolderSync.SHARED.durable(dir);
        } finally {
            if (!moved) Files.deleteIfExists(tmp);
        }
    }

    @Override
    public String address() {
        return "file " + spec.path().toAbsolutePath();
    }

    /** A consumer reads the file as it is: holding the text is the delivery. */
    @Override
    public boolean readBackSuffices() {
        return true;
    }

    /** The file holds what this value renders to (a missing or unreadable file does not). */
    @Override
    public java.util.Optional<Boolean> holds(String secretId, int version, SecretData value) throws IOException {
        return java.util.Optional.of(holdsText(render(secretId, version, value)));
    }

    /** True when the file holds exactly this text. */
    boolean holdsText(String text) throws IOException {
        byte[] expected = text.getBytes(StandardCharsets.UTF_8);
        byte[] actual;
        try {
            actual = Files.readAllBytes(spec.path());
        } catch (java.nio.file.NoSuchFileException missing) {
            return false;
        }
        return java.security.MessageDigest.isEqual(expected, actual);
    }

    private String render(String secretId, int version, SecretData value) throws Plugins.Rejected {
        try {
            return Formats.render(spec, fields, secretId, version, value);
        } catch (IllegalArgumentException e) {
            throw new Plugins.Rejected(secretId + " v" + version + " -> " + spec.path() + ": " + e.getMessage());
        }
    }

    private void own(Path tmp) throws IOException {
        if (spec.owner().isEmpty() && spec.group().isEmpty()) return;
        UserPrincipalLookupService users = tmp.getFileSystem().getUserPrincipalLookupService();
        PosixFileAttributeView view = Files.getFileAttributeView(tmp, PosixFileAttributeView.class);
        try {
            if (spec.owner().isPresent()) view.setOwner(users.lookupPrincipalByName(spec.owner().get()));
            if (spec.group().isPresent()) view.setGroup(users.lookupPrincipalByGroupName(spec.group().get()));
        } catch (java.nio.file.attribute.UserPrincipalNotFoundException e) {
            throw new Plugins.Rejected("target " + spec.id() + ": no such user or group '" + e.getName() + "' for "
                    + spec.path());
        } catch (java.nio.file.FileSystemException e) {
            throw new Failed("target " + spec.id() + ": cannot give " + spec.path() + " owner "
                    + spec.owner().orElse("-") + " group " + spec.group().orElse("-") + ": " + e.getReason()
                    + " (keyward needs CAP_CHOWN or to be a member of the group)");
        }
    }

    @Override
    public String toString() {
        return "FileTarget[" + spec.id() + " -> " + spec.path() + " " + spec.format().name().toLowerCase(java.util.Locale.ROOT) + "]";
    }
}
