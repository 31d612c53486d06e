package io.keyward.rotation;

import io.keyward.policy.VaultPaths;

/** A secret's place in a KV mount: {@code mount} (like "secret") and {@code path} below it. */
public record SecretPath(String mount, String path) {

    public SecretPath {
        mount = clean(mount, "mount", false);
        path = clean(path, "path", true);
    }

    public static SecretPath of(String mount, String path) {
        return new SecretPath(mount, path);
    }

    /** A path below this one: {@code secret/app} + "db" is {@code secret/app/db}. */
    public SecretPath child(String name) {
        return new SecretPath(mount, path.isEmpty() ? name : path + "/" + name);
    }

    @Override
    public String toString() {
        return path.isEmpty() ? mount : mount + "/" + path;
    }

    private static String clean(String s, String what, boolean mayBeEmpty) {
        if (s == null) throw new IllegalArgumentException("secret " + what + " is missing");
        String t = s.strip();
        while (t.startsWith("/")) t = t.substring(1);
        while (t.endsWith("/")) t = t.substring(0, t.length() - 1);
        if (t.isEmpty()) {
            if (mayBeEmpty) return t;
            throw new IllegalArgumentException("secret " + what + " is empty");
        }
        VaultPaths.checkSegments(t, s, "secret " + what);
        return t;
    }
}
