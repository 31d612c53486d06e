package io.keyward.audit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The key behind audit fingerprints. It lives in a file readable by keyward alone and never
 * leaves the agent: created on first start (32 random bytes, base64) if it does not exist.
 */
public final class AuditKey {

    private static final Logger LOG = LoggerFactory.getLogger(AuditKey.class);

    private AuditKey() {}

    public static byte[] loadOrCreate(Path file, SecureRandom random) throws IOException {
        if (!Files.exists(file)) {
            create(file, random);
        }
        warnIfOpen(file);
        String text = Files.readString(file, StandardCharsets.US_ASCII).strip();
        byte[] key;
        try {
            key = Base64.getDecoder().decode(text);
        } catch (IllegalArgumentException e) {
            throw new IOException("audit HMAC key file " + file + " is not base64");
        }
        if (key.length < 16) {
            throw new IOException("audit HMAC key in " + file + " is " + key.length + " bytes; it needs 16 or more");
        }
        return key;
    }

    /**
     * The fingerprint key shared by every agent of a fleet, kept in a Vault field so that one value
     * has one fingerprint on every host: read, or on the first start of the first agent created
     * (32 random bytes, base64) with check-and-set, so that two agents starting at once agree.
     */
    public static byte[] shared(io.keyward.rotation.SecretStore store, io.keyward.rotation.SecretPath path, String field,
                                SecureRandom random) throws IOException {
        for (int attempt = 0; attempt < 3; attempt++) {
            java.util.Optional<io.keyward.rotation.VersionedSecret> v = store.read(path);
            if (v.isPresent()) {
                String text = v.get().data().string(field).orElseThrow(() -> new IOException("audit.hmac_key: " + path
                        + " has no text field '" + field + "'"));
                byte[] key;
                try {
                    key = java.util.Base64.getDecoder().decode(text.strip());
                } catch (IllegalArgumentException e) {
                    throw new IOException("audit.hmac_key: field '" + field + "' of " + path + " is not base64");
                }
                if (key.length < 16) {
                    throw new IOException("audit.hmac_key: the key in " + path + " has " + key.length
                            + " bytes; it needs at least 16");
                }
                return key;
            }
            byte[] fresh = new byte[32];
            random.nextBytes(fresh);
            try {
                int version = store.write(path, io.keyward.rotation.SecretData.of(field,
                        java.util.Base64.getEncoder().encodeToString(fresh)), java.util.OptionalInt.of(0));
                LOG.info("created the shared audit fingerprint key at {} (version {})", path, version);
                return fresh;
            } catch (io.keyward.rotation.CasConflictException another) {
                // another agent created it first: read theirs
            }
        }
        throw new IOException("audit.hmac_key: could not read or create the key at " + path);
    }

    private static void create(Path file, SecureRandom random) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        byte[] key = new byte[32];
        random.nextBytes(key);
        Path tmp = Files.createTempFile(parent, ".audit-key", ".tmp");
        try {
            setOwnerOnly(tmp);
            Files.writeString(tmp, Base64.getEncoder().encodeToString(key) + "\n", StandardCharsets.US_ASCII);
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file);
            }
            LOG.info("created a new audit HMAC key in {}", file);
        } catch (FileAlreadyExistsException e) {
            // another process created it first; use theirs
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static void setOwnerOnly(Path p) throws IOException {
        try {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system
        }
    }

    private static void warnIfOpen(Path file) {
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
            if (perms.contains(PosixFilePermission.OTHERS_READ) || perms.contains(PosixFilePermission.GROUP_READ)) {
                LOG.warn("audit HMAC key file {} is readable by others than its owner; chmod 600 it", file);
            }
        } catch (IOException | UnsupportedOperationException e) {
            // nothing to check
        }
    }
}
