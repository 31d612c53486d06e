package io.keyward.policy;

import java.util.regex.Pattern;

/** The path rules keyward applies to Vault mounts and paths (the same as the rotation core's). */
final class VaultPaths {

    private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9._@+=,-]+");

    private VaultPaths() {}

    static void check(String mount, String path) {
        segments(mount, "mount");
        segments(path, "path");
    }

    private static void segments(String s, String what) {
        String t = s.strip();
        if (t.startsWith("/") || t.endsWith("/")) {
            throw new IllegalArgumentException(what + " '" + s + "' must not start or end with '/'");
        }
        if (t.isEmpty()) throw new IllegalArgumentException(what + " is empty");
        for (String seg : t.split("/", -1)) {
            if (seg.isEmpty() || seg.equals(".") || seg.equals("..") || !SEGMENT.matcher(seg).matches()) {
                throw new IllegalArgumentException(what + " '" + s + "' has a bad segment '" + seg
                        + "': use letters, digits and . _ - @ + = , between single slashes");
            }
        }
    }
}
