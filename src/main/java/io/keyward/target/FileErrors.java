package io.keyward.target;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.util.Locale;

/** Why a file could not be written, in the words an operator acts on. */
public final class FileErrors {

    private FileErrors() {}

    /** "no space left on device", "read-only file system", "permission denied", or the system's own reason. */
    public static String cause(IOException e) {
        String text = e instanceof FileSystemException f && f.getReason() != null ? f.getReason()
                : e.getMessage() == null ? "" : e.getMessage();
        String lower = text.toLowerCase(Locale.ROOT);
        if (lower.contains("no space")) return "no space left on device";
        if (lower.contains("read-only")) return "read-only file system";
        if (e instanceof AccessDeniedException || lower.contains("permission denied")) return "permission denied";
        if (lower.contains("quota")) return "disk quota exceeded";
        return text.isEmpty() ? e.getClass().getSimpleName() : text;
    }
}
