package io.keyward.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyward.testing.KeywardProcess;
import io.keyward.testing.Leaks;
import io.keyward.testing.TestDirs;
import io.keyward.testing.TestPorts;
import io.keyward.testing.TestVault;
import io.keyward.testing.VaultExtension;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The launcher's class-data archive (packaging/keyward with KEYWARD_CDS_DIR, as the unit sets it),
 * against the packaged jar and a real OpenBao: the first {@code keyward run} writes the archive
 * when it stops, the next start maps it; an archive from a run that never got to READY is not
 * kept, and one cut short (a crash while it was written) is thrown away instead of stopping the JVM.
 * And what the launcher seals: no core dump, no attaching to the service's JVM. Runs after
 * {@code package}, beside {@link PackageTest}.
 */
@ExtendWith(VaultExtension.class)
final class LauncherArchiveTest {

    private static final Path LAUNCHER = Path.of("packaging/keyward").toAbsolutePath();

    @Test
    void theSecondStart_mapsTheArchiveTheFirstRunWroteAtItsStop(TestVault vault) throws Exception {
        Service s = Service.of(vault, "cds");
        Path work = s.work();
        Path logs = s.logs();
        Path config = s.config();
        Path live = s.live();
        Path cds = work.resolve("cds");
        Map<String, String> env = Map.of("VAULT_TOKEN", vault.rootToken(), "KEYWARD_CDS_DIR", cds.toString(),
                "KEYWARD_JAR", jar().toString(), "JAVA_HOME", System.getProperty("java.home"));

        // A run stopped by a bad configuration writes an archive of the few classes it loaded: not kept.
        Path bad = Files.writeString(work.resolve("bad.yaml"), "agent: { id: [ }\n");
        assertThat(launch(env, "run", "-c", bad.toString())).isEqualTo(2);
        assertThat(names(cds)).singleElement().satisfies(n -> assertThat(n).endsWith(".jsa.new"));

        try (KeywardProcess first = KeywardProcess.launched("first", LAUNCHER, config, logs, env)) {
            first.start();
            first.awaitReady(60);
            first.awaitFile(live, 60);
            assertThat(maps(first.pid())).as("no archive yet").noneMatch(l -> l.contains(cds.toString()));
            assertThat(first.stop()).isZero();
        }
        assertThat(names(cds)).as("written at the stop, with the mark of a run that got to READY")
                .hasSize(2).anyMatch(n -> n.endsWith(".jsa.new")).anyMatch(n -> n.endsWith(".jsa.ready"));

        try (KeywardProcess second = KeywardProcess.launched("second", LAUNCHER, config, logs, env)) {
            second.start();
            second.awaitReady(60);
            assertThat(names(cds)).singleElement().satisfies(n -> assertThat(n).endsWith(".jsa"));
            Path archive = cds.resolve(names(cds).get(0));
            assertThat(maps(second.pid())).as("the JVM maps the archive").anyMatch(l -> l.endsWith(archive.toString()));
            assertThat(second.stop()).isZero();
        }
    }

    /** The service's memory stays its own: no core dump, no attaching (jcmd, heap dumps) to its JVM. */
    @Test
    void theService_dumpsNoCore_andRefusesToBeAttachedTo(TestVault vault) throws Exception {
        Service s = Service.of(vault, "sealed");
        Map<String, String> env = Map.of("VAULT_TOKEN", vault.rootToken(), "KEYWARD_JAR", jar().toString(),
                "JAVA_HOME", System.getProperty("java.home"));
        // Started from a shell that allows core dumps, as an operator's may.
        Path permissive = Files.writeString(s.work().resolve("permissive.sh"),
                "#!/bin/sh\nulimit -c unlimited\nexec " + LAUNCHER + " \"$@\"\n");
        Files.setPosixFilePermissions(permissive, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        try (KeywardProcess service = KeywardProcess.launched("sealed", permissive, s.config(), s.logs(), env)) {
            service.start();
            service.awaitReady(60);
            assertThat(Files.readAllLines(Path.of("/proc/" + service.pid() + "/limits")))
                    .anyMatch(l -> l.matches("Max core file size\\s+0\\s+0\\s+bytes\\s*"));
            Process jcmd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                    String.valueOf(service.pid()), "VM.version").redirectErrorStream(true).start();
            String said = new String(jcmd.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(jcmd.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(jcmd.exitValue()).as(said).isNotZero();
            assertThat(said).doesNotContain("OpenJDK 64-Bit Server VM version");
            assertThat(service.stop()).isZero();
        }
    }

    @Test
    void anArchiveCutShort_isThrownAway_andTheJvmStarts() throws Exception {
        Path dir = TestDirs.fresh("cds-cut");
        Path cds = dir.resolve("cds");
        Map<String, String> env = Map.of("KEYWARD_CDS_DIR", cds.toString(), "KEYWARD_JAR", jar().toString(),
                "JAVA_HOME", System.getProperty("java.home"));
        Path bad = Files.writeString(dir.resolve("bad.yaml"), "agent: { id: [ }\n");
        assertThat(launch(env, "run", "-c", bad.toString())).isEqualTo(2);
        Path written = cds.resolve(names(cds).get(0));
        // As if the run had got to READY and then died while the JVM wrote the archive.
        byte[] whole = Files.readAllBytes(written);
        Files.write(written, java.util.Arrays.copyOf(whole, whole.length / 3));
        Files.writeString(cds.resolve(written.getFileName().toString().replace(".jsa.new", ".jsa.ready")), "");

        assertThat(launch(env, "run", "-c", bad.toString())).as("a configuration error, not a JVM crash").isEqualTo(2);
        assertThat(names(cds)).singleElement().satisfies(n -> assertThat(n).endsWith(".jsa.new"));
        assertThat(Files.size(cds.resolve(names(cds).get(0)))).as("written again, whole").isEqualTo(whole.length);
        try (Stream<Path> s = Files.list(Path.of(""))) {
            assertThat(s.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("hs_err"));
        }
    }

    /** A service configuration with one secret in Vault and its file target. */
    private record Service(Path work, Path logs, Path config, Path live) {
        static Service of(TestVault vault, String name) throws IOException {
            String run = vault.uniqueName(name);
            Path work = TestDirs.credentials(run);
            Path logs = TestDirs.fresh(run);
            Path live = work.resolve("app.secret");
            String secretPath = run + "/app";
            vault.admin("POST", "secret/data/" + secretPath, "{\"data\":{\"password\":\"" + Leaks.secret(name) + "\"}}");
            Path policy = Files.writeString(work.resolve("policy.yaml"), String.join("\n",
                    "secrets:",
                    "  - { id: app, path: " + secretPath + ", fields: [password], generator: { type: random },"
                            + " schedule: { every: 30d }, targets: [{ id: f, type: file, path: " + live + " }] }",
                    ""));
            return new Service(work, logs, vault.serviceConfig(work, logs, run, policy, TestPorts.free()), live);
        }
    }

    private static Path jar() throws IOException {
        Path jar = TestDirs.target().resolve("keyward.jar");
        if (!Files.isRegularFile(jar)) throw new AssertionError("no " + jar + ": run `mvn package` first");
        return jar;
    }

    private static int launch(Map<String, String> env, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(LAUNCHER.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as(out).isTrue();
        assertThat(out).doesNotContain("[cds]").doesNotContain("A fatal error");
        return p.exitValue();
    }

    private static List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static List<String> maps(long pid) throws IOException {
        return Files.readAllLines(Path.of("/proc/" + pid + "/maps"));
    }
}
