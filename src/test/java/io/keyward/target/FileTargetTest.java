package io.keyward.target;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keyward.policy.Policy;
import io.keyward.rotation.Plugins;
import io.keyward.rotation.SecretData;
import io.keyward.testing.TestDirs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

final class FileTargetTest {

    static final Targets TARGETS = new Targets(Targets.defaultHttpClient(), null,
            new io.keyward.rotation.Fingerprinter(new byte[32]), java.time.Clock.systemUTC(), d -> { }, () -> 0.5,
            Policy.Restarts.DEFAULT);

    private final Path dir = TestDirs.credentials("file-target");

    @Test
    void deliver_writesTheFieldWithItsMode_andLeavesNoTemporaryFile() throws Exception {
        Path file = dir.resolve("sub/db-password");
        Plugins.Target t = TARGETS.of(Policy.TargetSpec.File.raw("app", file, "password",
                PosixFilePermissions.fromString("rw-r-----")), List.of("password"));
        t.deliver("db", 3, SecretData.of(Map.of("password", "p-1", "user", "app")));

        assertThat(Files.readString(file)).isEqualTo("p-1");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-r-----");
        try (var files = Files.list(file.getParent())) {
            assertThat(files).containsExactly(file);
        }
    }

    /** A folder that cannot be written: the error names the target, its real path and the cause; the old file stays. */
    @Test
    void deliver_toAReadOnlyOrFullFolder_namesThePathAndTheCause() throws Exception {
        try (io.keyward.testing.FullDisk disk = io.keyward.testing.FullDisk.forSecrets("file-target-faults")) {
            Path file = disk.dir().resolve("db-password");
            Plugins.Target t = TARGETS.of(Policy.TargetSpec.File.raw("app", file, "password",
                    PosixFilePermissions.fromString("rw-r-----")), List.of("password"));
            t.deliver("db", 1, SecretData.of(Map.of("password", "p-1")));
            disk.readOnly(true);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> t.deliver("db", 2, SecretData.of(Map.of("password", "p-2"))))
                    .hasMessage("target app: cannot write " + file + ": read-only file system");
            disk.readOnly(false);
            disk.fill();
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> t.deliver("db", 2,
                            SecretData.of(Map.of("password", "p-2".repeat(2000)))))
                    .hasMessage("target app: cannot write " + file + ": no space left on device");
            assertThat(Files.readString(file)).isEqualTo("p-1");
            disk.free();
        }
    }

    @Test
    void deliver_emptyOrMissingField_isRefused_andTheOldFileStays() throws Exception {
        Path file = dir.resolve("token");
        Plugins.Target t = TARGETS.of(Policy.TargetSpec.File.raw("app", file, "token",
                PosixFilePermissions.fromString("rw-------")), List.of("token"));
        t.deliver("s", 1, SecretData.of("token", "first"));

        assertThatThrownBy(() -> t.deliver("s", 2, SecretData.of("token", ""))).isInstanceOf(Plugins.Rejected.class)
                .hasMessageContaining("empty or missing");
        assertThatThrownBy(() -> t.deliver("s", 2, SecretData.of("other", "x"))).isInstanceOf(Plugins.Rejected.class);
        assertThat(Files.readString(file)).isEqualTo("first");
    }

    @Test
    void aReaderDuringManyWrites_seesOnlyWholeValues() throws Exception {
        Path file = dir.resolve("rolling");
        Plugins.Target t = TARGETS.of(Policy.TargetSpec.File.raw("app", file, "v",
                PosixFilePermissions.fromString("rw-------")), List.of("v"));
        String a = "A".repeat(64 * 1024);
        String b = "B".repeat(64 * 1024);
        t.deliver("s", 1, SecretData.of("v", a));
        AtomicBoolean stop = new AtomicBoolean();
        List<String> torn = new ArrayList<>();
        Thread reader = new Thread(() -> {
            while (!stop.get()) {
                try {
                    String s = Files.readString(file);
                    if (!s.equals(a) && !s.equals(b)) torn.add("read " + s.length() + " characters");
                } catch (java.io.IOException e) {
                    torn.add(e.toString());
                }
            }
        });
        reader.start();
        for (int i = 0; i < 200; i++) t.deliver("s", i, SecretData.of("v", i % 2 == 0 ? b : a));
        stop.set(true);
        reader.join();
        assertThat(torn).isEmpty();
    }
}
