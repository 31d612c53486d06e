package io.keyward.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyward.audit.JsonAuditLog;
import io.keyward.rotation.CasConflictException;
import io.keyward.rotation.Fingerprinter;
import io.keyward.rotation.SecretData;
import io.keyward.rotation.SecretMetadata;
import io.keyward.rotation.SecretPath;
import io.keyward.rotation.SecretStore;
import io.keyward.rotation.StoreException;
import io.keyward.rotation.VersionGoneException;
import io.keyward.rotation.VersionedSecret;
import io.keyward.testing.TestDirs;
import io.keyward.testing.TestVault;
import io.keyward.testing.VaultExtension;
import io.keyward.vault.VaultClient;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Holds the simulator's in-memory KV v2 to OpenBao's answers: the same seeded sequence of
 * operations (writes with and without check-and-set, reads of the latest and of given versions,
 * deletes, pruning by max_versions, custom metadata, lists) runs against the real server through
 * keyward's adapter and against {@link MemoryStore}; every answer, and every error kind, must be
 * the same. Times are left out (the two clocks differ).
 */
@ExtendWith(VaultExtension.class)
final class MemoryStoreContractTest {

    private static final List<String> PATHS = List.of("a", "b", "dir/c", "dir/d", "dir/sub/e");
    private static final List<String> FOLDERS = List.of("", "dir", "dir/sub", "nothing");

    /** One operation: what it does to a store, and how to set max_versions where the store API has no call for it. */
    private interface Op {
        String run(SecretStore store, SecretPath root, MaxVersions max) throws StoreException;
    }

    @FunctionalInterface
    private interface MaxVersions {
        void set(SecretPath path, int max);
    }

    @Test
    void sameOperations_sameAnswers_asOpenBao(TestVault vault) throws Exception {
        JsonAuditLog audit = JsonAuditLog.open(TestDirs.fresh("contract").resolve("audit.jsonl"), "contract", Clock.systemUTC());
        try (VaultClient real = VaultClient.connect(vault.rootSettings(), audit,
                new Fingerprinter("contract-test-key-0123456789".getBytes()), Clock.systemUTC())) {
            for (long seed = 1; seed <= 4; seed++) {
                List<Op> ops = new ArrayList<>(fixed());
                ops.addAll(script(new Random(seed), 250));
                SecretPath realRoot = vault.uniquePath("contract");
                SecretPath memoryRoot = SecretPath.of("secret", "contract");
                MemoryStore memory = new MemoryStore(Clock.systemUTC());
                List<String> fromVault = play(ops, real, realRoot, (p, n) -> vault.admin("POST",
                        p.mount() + "/metadata/" + p.path(), "{\"max_versions\":" + n + "}"));
                List<String> fromMemory = play(ops, memory, memoryRoot, memory::maxVersions);
                for (int i = 0; i < ops.size(); i++) {
                    assertThat(fromMemory.get(i)).as("seed %d, operation %d of %d", seed, i + 1, ops.size())
                            .isEqualTo(fromVault.get(i));
                }
            }
        } finally {
            audit.close();
        }
    }

    private static List<String> play(List<Op> ops, SecretStore store, SecretPath root, MaxVersions max) {
        List<String> answers = new ArrayList<>();
        for (Op op : ops) {
            try {
                answers.add(op.run(store, root, max));
            } catch (CasConflictException e) {
                answers.add("conflict");
            } catch (VersionGoneException e) {
                answers.add("gone v" + e.version() + (e.destroyed() ? " destroyed" : " deleted"));
            } catch (StoreException e) {
                answers.add("error");
            }
        }
        return answers;
    }

    /** The cases every run covers: pruning at the default and a set max_versions, conflicts, deletes, metadata only. */
    private static List<Op> fixed() {
        List<Op> ops = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            String value = "fixed-" + i;
            ops.add((s, root, m) -> "write v" + s.write(root.child("many"), SecretData.of("f", value), OptionalInt.empty()));
        }
        ops.add((s, root, m) -> "read v1 " + describe(s.read(root.child("many"), 1)));
        ops.add((s, root, m) -> "read v3 " + describe(s.read(root.child("many"), 3)));
        ops.add((s, root, m) -> "metadata " + s.metadata(root.child("many")).map(MemoryStoreContractTest::describe).orElse("absent"));
        ops.add((s, root, m) -> {
            m.set(root.child("one"), 1);
            return "max_versions 1";
        });
        for (int i = 0; i < 3; i++) {
            String value = "one-" + i;
            ops.add((s, root, m) -> "write v" + s.write(root.child("one"), SecretData.of("f", value), OptionalInt.empty()));
        }
        ops.add((s, root, m) -> "read v2 " + describe(s.read(root.child("one"), 2)));
        ops.add((s, root, m) -> "metadata " + s.metadata(root.child("one")).map(MemoryStoreContractTest::describe).orElse("absent"));
        ops.add((s, root, m) -> "cas 0 on existing v" + s.write(root.child("one"), SecretData.of("f", "x"), OptionalInt.of(0)));
        ops.add((s, root, m) -> "cas 2 on v3 v" + s.write(root.child("one"), SecretData.of("f", "x"), OptionalInt.of(2)));
        ops.add((s, root, m) -> "cas 5 on absent v" + s.write(root.child("none"), SecretData.of("f", "x"), OptionalInt.of(5)));
        ops.add((s, root, m) -> {
            s.deleteVersions(root.child("many"), List.of(12));
            return "delete latest";
        });
        ops.add((s, root, m) -> "read latest deleted " + describe(s.read(root.child("many"))));
        ops.add((s, root, m) -> "cas on deleted latest v" + s.write(root.child("many"), SecretData.of("f", "y"), OptionalInt.of(12)));
        ops.add((s, root, m) -> {
            s.writeCustomMetadata(root.child("meta/only"), Map.of("k", "v"));
            return "custom on absent";
        });
        ops.add((s, root, m) -> "read metadata-only " + describe(s.read(root.child("meta/only"))));
        ops.add((s, root, m) -> "metadata-only " + s.metadata(root.child("meta/only")).map(MemoryStoreContractTest::describe)
                .orElse("absent"));
        ops.add((s, root, m) -> "cas 0 on metadata-only v" + s.write(root.child("meta/only"), SecretData.of("f", "z"),
                OptionalInt.of(0)));
        ops.add((s, root, m) -> "list root " + s.list(root) + " meta " + s.list(root.child("meta")));
        Map<String, Object> wide = new java.util.TreeMap<>();
        for (int i = 0; i < 600; i++) wide.put("f" + i, "v" + i);
        ops.add((s, root, m) -> "too many strings v" + s.write(root.child("wide"), SecretData.of(wide), OptionalInt.empty()));
        Map<String, Object> fits = new java.util.TreeMap<>();
        for (int i = 0; i < 450; i++) fits.put("f" + i, "v" + i);
        ops.add((s, root, m) -> "many strings v" + s.write(root.child("wide"), SecretData.of(fits), OptionalInt.empty()));
        ops.add((s, root, m) -> {
            s.deleteAll(root.child("meta/only"));
            return "list after delete all " + s.list(root.child("meta")) + " " + s.metadata(root.child("meta/only")).isPresent();
        });
        return ops;
    }

    /** A seeded mix of operations over a few paths, with answers that exercise every rule. */
    private static List<Op> script(Random r, int n) {
        List<Op> ops = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String name = PATHS.get(r.nextInt(PATHS.size()));
            int k = r.nextInt(14);
            String value = "value-" + i;
            int guess = r.nextInt(6);
            int version = 1 + r.nextInt(14);
            Map<String, String> custom = r.nextBoolean() ? Map.of("keyward-current", String.valueOf(guess)) : Map.of("x", value);
            ops.add(switch (k) {
                case 0, 1, 2 -> (s, root, m) -> "write v" + s.write(root.child(name), SecretData.of("f", value), OptionalInt.empty());
                case 3 -> (s, root, m) -> {
                    int current = s.metadata(root.child(name)).map(SecretMetadata::currentVersion).orElse(0);
                    return "cas-write v" + s.write(root.child(name), SecretData.of("f", value), OptionalInt.of(current));
                };
                case 4 -> (s, root, m) -> "cas-guess v" + s.write(root.child(name), SecretData.of("f", value), OptionalInt.of(guess));
                case 5, 6 -> (s, root, m) -> "read " + describe(s.read(root.child(name)));
                case 7 -> (s, root, m) -> "read v" + version + " " + describe(s.read(root.child(name), version));
                case 8 -> (s, root, m) -> "metadata " + s.metadata(root.child(name)).map(MemoryStoreContractTest::describe)
                        .orElse("absent");
                case 9 -> (s, root, m) -> {
                    s.writeCustomMetadata(root.child(name), custom);
                    return "custom";
                };
                case 10 -> (s, root, m) -> {
                    String folder = FOLDERS.get(version % FOLDERS.size());
                    return "list " + folder + " " + s.list(folder.isEmpty() ? root : root.child(folder));
                };
                case 11 -> (s, root, m) -> {
                    int current = s.metadata(root.child(name)).map(SecretMetadata::currentVersion).orElse(0);
                    s.deleteVersions(root.child(name), List.of(Math.max(1, current - guess % 2)));
                    return "delete";
                };
                case 12 -> (s, root, m) -> {
                    m.set(root.child(name), guess % 4);
                    return "max_versions";
                };
                default -> (s, root, m) -> {
                    if (guess != 0) return "skip";
                    s.deleteAll(root.child(name));
                    return "delete all";
                };
            });
        }
        return ops;
    }

    private static String describe(Optional<VersionedSecret> v) {
        return v.map(x -> "v" + x.version() + " " + x.data().fields() + " custom " + new TreeMap<>(x.customMetadata()))
                .orElse("absent");
    }

    private static String describe(SecretMetadata m) {
        Map<Integer, String> versions = new TreeMap<>();
        m.versions().forEach((n, s) -> versions.put(n, s.destroyed() ? "destroyed" : s.deleted().isPresent() ? "deleted" : "ok"));
        return "current " + m.currentVersion() + " oldest " + m.oldestVersion() + " max " + m.maxVersions() + " versions "
                + versions + " custom " + new TreeMap<>(m.customMetadata());
    }
}
