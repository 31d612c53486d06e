package io.keyward.sim;

import io.keyward.rotation.CasConflictException;
import io.keyward.rotation.SecretData;
import io.keyward.rotation.SecretMetadata;
import io.keyward.rotation.SecretPath;
import io.keyward.rotation.SecretStore;
import io.keyward.rotation.StoreException;
import io.keyward.rotation.VersionGoneException;
import io.keyward.rotation.VersionedSecret;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * KV v2 in memory, with OpenBao's answers (held to them by {@link MemoryStoreContractTest}):
 * versions, check-and-set against the current version (0: absent or metadata only), version
 * deletes, {@code max_versions} pruning (0 means the mount's default of 10), custom metadata
 * written whole, and lists of the names directly below a folder. The only stand-in for Vault,
 * used by the simulator; integration tests use a real OpenBao.
 */
public final class MemoryStore implements SecretStore {

    /** KV v2's default number of versions kept when a secret sets none. */
    static final int MOUNT_MAX_VERSIONS = 10;
    /** OpenBao refuses a request body with more JSON strings (keys and values) than this, by default. */
    static final int MAX_JSON_STRINGS = 1000;

    private static final class Version {
        final SecretData data;
        final Instant created;
        Instant deleted;

        Version(SecretData data, Instant created) {
            this.data = data;
            this.created = created;
        }
    }

    private static final class Entry {
        final TreeMap<Integer, Version> versions = new TreeMap<>();
        int current;
        int oldest;
        int maxVersions;
        Map<String, String> custom = Map.of();
        final Instant created;
        Instant updated;

        Entry(Instant created) {
            this.created = created;
            this.updated = created;
        }
    }

    private final Clock clock;
    private final Map<SecretPath, Entry> entries = new HashMap<>();

    public MemoryStore(Clock clock) {
        this.clock = clock;
    }

    @Override
    public synchronized Optional<VersionedSecret> read(SecretPath path) throws VersionGoneException {
        Entry e = entries.get(path);
        if (e == null || e.current == 0) return Optional.empty();
        return readVersion(path, e, e.current);
    }

    @Override
    public synchronized Optional<VersionedSecret> read(SecretPath path, int version) throws VersionGoneException {
        if (version < 1) throw new IllegalArgumentException("version must be 1 or more, was " + version);
        Entry e = entries.get(path);
        if (e == null) return Optional.empty();
        return readVersion(path, e, version);
    }

    private static Optional<VersionedSecret> readVersion(SecretPath path, Entry e, int version) throws VersionGoneException {
        Version v = e.versions.get(version);
        if (v == null) return Optional.empty();
        if (v.deleted != null) throw new VersionGoneException(path, version, false);
        return Optional.of(new VersionedSecret(path, version, v.data, v.created, e.custom));
    }

    @Override
    public synchronized int write(SecretPath path, SecretData data, OptionalInt expectedVersion) throws StoreException {
        complexity(path, 2 + (expectedVersion.isPresent() ? 1 : 0) + strings(data.fields()));
        Entry e = entries.get(path);
        int current = e == null ? 0 : e.current;
        if (expectedVersion.isPresent() && expectedVersion.getAsInt() != current) {
            throw new CasConflictException(path, expectedVersion.getAsInt(),
                    "Vault: check-and-set parameter did not match the current version");
        }
        Instant now = clock.instant();
        if (e == null) {
            e = new Entry(now);
            entries.put(path, e);
        }
        int v = current + 1;
        e.versions.put(v, new Version(data, now));
        e.current = v;
        e.updated = now;
        prune(e);
        return v;
    }

    /** Counts the JSON strings a request body would carry: keys, and values that are text. */
    private static int strings(Object v) {
        if (v instanceof Map<?, ?> m) {
            int n = 0;
            for (Map.Entry<?, ?> x : m.entrySet()) n += 1 + strings(x.getValue());
            return n;
        }
        if (v instanceof List<?> l) {
            int n = 0;
            for (Object x : l) n += strings(x);
            return n;
        }
        return v instanceof String ? 1 : 0;
    }

    private static void complexity(SecretPath path, int strings) throws StoreException {
        if (strings > MAX_JSON_STRINGS) {
            throw new StoreException("write of " + path + " refused: HTTP 400: refused JSON input due to high complexity:"
                    + " exceeded maximum number of strings");
        }
    }

    private static void prune(Entry e) {
        int keep = e.maxVersions > 0 ? e.maxVersions : MOUNT_MAX_VERSIONS;
        boolean pruned = false;
        while (e.versions.size() > keep) {
            e.versions.pollFirstEntry();
            pruned = true;
        }
        if (pruned) e.oldest = e.versions.firstKey();
    }

    @Override
    public synchronized Optional<SecretMetadata> metadata(SecretPath path) {
        Entry e = entries.get(path);
        if (e == null) return Optional.empty();
        TreeMap<Integer, SecretMetadata.VersionState> versions = new TreeMap<>();
        e.versions.forEach((n, v) -> versions.put(n, new SecretMetadata.VersionState(v.created,
                Optional.ofNullable(v.deleted), false)));
        return Optional.of(new SecretMetadata(path, e.current, e.oldest, e.created, e.updated, e.maxVersions, false,
                versions, e.custom));
    }

    @Override
    public synchronized void writeCustomMetadata(SecretPath path, Map<String, String> custom) throws StoreException {
        complexity(path, 1 + 2 * custom.size());
        Entry e = entries.computeIfAbsent(path, p -> new Entry(clock.instant()));
        e.custom = Map.copyOf(custom);
        e.updated = clock.instant();
    }

    /** What an operator sets on the secret's metadata: how many versions Vault keeps (0: the mount's default). */
    public synchronized void maxVersions(SecretPath path, int max) {
        Entry e = entries.computeIfAbsent(path, p -> new Entry(clock.instant()));
        e.maxVersions = max;
        e.updated = clock.instant();
    }

    @Override
    public synchronized List<String> list(SecretPath folder) {
        String prefix = folder.path().isEmpty() ? "" : folder.path() + "/";
        TreeSet<String> names = new TreeSet<>();
        for (SecretPath p : entries.keySet()) {
            if (!p.mount().equals(folder.mount()) || !p.path().startsWith(prefix)) continue;
            String rest = p.path().substring(prefix.length());
            int slash = rest.indexOf('/');
            names.add(slash < 0 ? rest : rest.substring(0, slash + 1));
        }
        return new ArrayList<>(names);
    }

    @Override
    public synchronized void deleteVersions(SecretPath path, Collection<Integer> versions) {
        Entry e = entries.get(path);
        if (e == null) return;
        for (int n : versions) {
            Version v = e.versions.get(n);
            if (v != null && v.deleted == null) v.deleted = clock.instant();
        }
    }

    @Override
    public synchronized void deleteAll(SecretPath path) {
        entries.remove(path);
    }

    /** Every readable or deleted value of a secret that Vault still holds (the simulator's check of what is stored). */
    public synchronized List<SecretData> everyVersion(SecretPath path) {
        Entry e = entries.get(path);
        if (e == null) return List.of();
        List<SecretData> out = new ArrayList<>();
        for (Version v : e.versions.values()) out.add(v.data);
        return out;
    }
}
