package io.keyward.rotation;

import io.keyward.policy.VaultPaths;

/** A secret's place in a KV mount: {@code mount} (like "secret") and {@code path} below it. */
public final class SecretPath {

    private final String mount;
    private final String path;

    private SecretPath(String mount, String path) {
        this.mount = mount;
        this.path = path;
    }

    public static SecretPath of(String mount, String path) {
        return new SecretPath(clean(mount, "mount", false), clean(path, "path", true));
    }

    public String mount() {
        return mount;
    }

    public String path() {
        return path;
    }

    /** A path below this one: {@code secret/app} + "db" is {@code secret/app/db}. */
    public SecretPath child(String name) {
        String c = clean(name, "path", false);
        return new SecretPath(mount, path.isEmpty() ? c : path + "/" + c);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SecretPath p && p.mount.equals(mount) && p.path.equals(path);
    }

    @Override
    public int hashCode() {
        return 31 * mount.hashCode() + path.hashCode();
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
