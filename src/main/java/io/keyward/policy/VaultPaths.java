package io.keyward.policy;

import java.util.regex.Pattern;

/** The path rules keyward applies to Vault mounts and paths, in the policy and in the rotation core. */
public final class VaultPaths {

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
        checkSegments(t, s, what);
    }

    /**
     * Checks each slash-separated segment of {@code path} ({@code original} as written, for the
     * message): no empty, "." or ".." segment, only letters, digits and . _ - @ + = ,
     */
    public static void checkSegments(String path, String original, String what) {
        for (String seg : path.split("/", -1)) {
            if (seg.isEmpty() || seg.equals(".") || seg.equals("..") || !SEGMENT.matcher(seg).matches()) {
                throw new IllegalArgumentException(what + " '" + original + "' has a bad segment '" + seg
                        + "': use letters, digits and . _ - @ + = , between single slashes");
            }
        }
    }
}
