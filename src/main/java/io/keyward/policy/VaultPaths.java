package io.keyward.policy;

/** The path rules keyward applies to Vault mounts and paths, in the policy and in the rotation core. */
public final class VaultPaths {

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
        int start = 0;
        for (int i = 0; i <= path.length(); i++) {
            if (i < path.length() && path.charAt(i) != '/') continue;
            String seg = path.substring(start, i);
            if (seg.isEmpty() || seg.equals(".") || seg.equals("..") || !allowed(seg)) {
                throw new IllegalArgumentException(what + " '" + original + "' has a bad segment '" + seg
                        + "': use letters, digits and . _ - @ + = , between single slashes");
            }
            start = i + 1;
        }
    }

    private static boolean allowed(String seg) {
        for (int i = 0; i < seg.length(); i++) {
            char c = seg.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || ".-_@+=,".indexOf(c) >= 0;
            if (!ok) return false;
        }
        return true;
    }
}
