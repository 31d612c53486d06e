package io.keyward.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyward.testing.TestDirs;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Debian package `mvn package` built (runs after `package`, in its own surefire execution):
 * its files with their modes, its control fields, and its maintainer scripts, read with
 * dpkg-deb. The installed launcher is then run for real against the packaged jar.
 */
final class PackageTest {

    private static Path deb;
    private static Path unpacked;

    @BeforeAll
    static void unpack() throws Exception {
        try (Stream<Path> s = Files.list(TestDirs.target())) {
            deb = s.filter(p -> p.getFileName().toString().matches("keyward_.*_all\\.deb")).findFirst()
                    .orElseThrow(() -> new AssertionError("no keyward_*_all.deb in target/: run `mvn package` first"));
        }
        unpacked = TestDirs.fresh("deb");
        run("dpkg-deb", "-x", deb.toString(), unpacked.resolve("root").toString());
        run("dpkg-deb", "-e", deb.toString(), unpacked.resolve("DEBIAN").toString());
    }

    @Test
    void installsJarLauncherUnitsSnippetsExamplesAndDocs() throws Exception {
        Map<String, String> files = contents();
        assertThat(files).containsEntry("./usr/share/keyward/keyward.jar", "-rw-r--r--")
                .containsEntry("./usr/bin/keyward", "-rwxr-xr-x")
                .containsEntry("./usr/lib/systemd/system/keyward.service", "-rw-r--r--")
                .containsEntry("./usr/lib/systemd/system/keyward-check.service", "-rw-r--r--")
                .containsEntry("./usr/lib/sysusers.d/keyward.conf", "-rw-r--r--")
                .containsEntry("./usr/lib/tmpfiles.d/keyward.conf", "-rw-r--r--")
                .containsKeys("./usr/share/doc/keyward/README.md", "./usr/share/doc/keyward/CHANGELOG.md",
                        "./usr/share/doc/keyward/examples/keyward.yaml", "./usr/share/doc/keyward/examples/policy.yaml",
                        "./usr/share/doc/keyward/examples/policy.schema.json",
                        "./usr/share/doc/keyward/examples/monitoring/grafana-dashboard.json",
                        "./usr/share/doc/keyward/examples/monitoring/prometheus-alerts.yml")
                .containsEntry("./etc/keyward/", "drwxr-x---");
        // Nothing from the build or the tests rides along.
        assertThat(files.keySet()).noneMatch(f -> f.contains("test") || f.contains(".tools") || f.endsWith(".key"));
        Path root = unpacked.resolve("root");
        assertThat(Files.readString(root.resolve("usr/lib/systemd/system/keyward.service")))
                .isEqualTo(Files.readString(Path.of("systemd/keyward.service")));
        assertThat(Files.size(root.resolve("usr/share/keyward/keyward.jar")))
                .isEqualTo(Files.size(TestDirs.target().resolve("keyward.jar")));
    }

    @Test
    void manPage_rendersWithoutWarnings_andDocumentsEveryCommand() throws Exception {
        assertThat(contents()).containsEntry("./usr/share/man/man1/keyward.1.gz", "-rw-r--r--");
        Path page = unpacked.resolve("root/usr/share/man/man1/keyward.1.gz");

        // groff is part of every Debian system with man-db (package groff-base); -ww reports every warning.
        String warnings = run("sh", "-c", "zcat '" + page + "' | groff -man -ww -z -Tutf8 2>&1");
        String text = run("sh", "-c", "zcat '" + page + "' | MANWIDTH=200 man -l - 2>/dev/null | col -b");

        assertThat(warnings).isEmpty();
        assertThat(text).startsWith("KEYWARD(1)").contains("NAME", "SYNOPSIS", "COMMANDS", "EXIT STATUS", "FILES")
                .contains("keyward run [-hvV]", "keyward fleet forget", "keyward audit verify", "--emergency", "KEYWARD_CONFIG")
                .doesNotContain("docbits-simulator").doesNotContain("%n");
    }

    @Test
    void bashCompletion_completesCommandsSubcommandsAndOptions() throws Exception {
        assertThat(contents()).containsEntry("./usr/share/bash-completion/completions/keyward", "-rw-r--r--");
        Path script = unpacked.resolve("root/usr/share/bash-completion/completions/keyward");

        assertThat(complete(script, "keyward", "ro")).isEqualTo("rotate");
        assertThat(complete(script, "keyward", "fleet", "")).isEqualTo("forget");
        assertThat(complete(script, "keyward", "status", "--o")).isEqualTo("--output");
    }

    /** What bash offers for the last word, as the installed script computes it. */
    private static String complete(Path script, String... words) throws Exception {
        StringBuilder quoted = new StringBuilder();
        for (String w : words) quoted.append(" '").append(w).append('\'');
        String line = String.join(" ", words);
        return run("bash", "-c", "compopt() { :; }; source '" + script + "'; complete -p keyward >/dev/null"
                + "; COMP_WORDS=(" + quoted + "); COMP_CWORD=" + (words.length - 1) + "; COMP_LINE='" + line
                + "'; COMP_POINT=" + line.length() + "; _complete_keyward; echo \"${COMPREPLY[*]}\"");
    }

    @Test
    void controlFields_nameJavaAndSystemd() throws Exception {
        String control = Files.readString(unpacked.resolve("DEBIAN/control"));
        assertThat(control).contains("Package: keyward").contains("Architecture: all")
                .containsPattern("(?m)^Version: \\d+\\.\\d+\\.\\d+")
                .containsPattern("(?m)^Depends: .*openjdk-17-jre-headless.*systemd");
        assertThat(control).doesNotContain("[[");
    }

    @Test
    void maintainerScripts_createTheUser_neverStartTheService_andKeepTheAuditTrail() throws Exception {
        Path dir = unpacked.resolve("DEBIAN");
        for (String script : List.of("postinst", "prerm", "postrm")) {
            Path f = dir.resolve(script);
            assertThat(Files.isExecutable(f)).as(script + " executable").isTrue();
            assertThat(run("sh", "-n", f.toString())).as(script + " parses").isEmpty();
        }
        String postinst = Files.readString(dir.resolve("postinst"));
        assertThat(postinst).contains("systemd-sysusers").contains("systemd-tmpfiles --create").contains("daemon-reload")
                .doesNotContainPattern("systemctl\\s+(enable|start)\\b");
        assertThat(Files.readString(dir.resolve("prerm"))).contains("systemctl stop keyward.service");
        String postrm = Files.readString(dir.resolve("postrm"));
        assertThat(postrm).contains("rm -rf /var/lib/keyward").doesNotContain("rm -rf /var/log");
    }

    @Test
    void installedLauncher_runsThePackagedJar() throws Exception {
        Path root = unpacked.resolve("root");
        ProcessBuilder pb = new ProcessBuilder(root.resolve("usr/bin/keyward").toString(), "--version")
                .redirectErrorStream(true);
        pb.environment().put("KEYWARD_JAR", root.resolve("usr/share/keyward/keyward.jar").toString());
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).startsWith("keyward ");
    }

    /** path -> mode string, from dpkg-deb's listing. */
    private static Map<String, String> contents() throws Exception {
        Map<String, String> out = new TreeMap<>();
        for (String line : run("dpkg-deb", "-c", deb.toString()).split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 6) out.put(f[f.length - 1], f[0]);
        }
        return out;
    }

    private static String run(String... cmd) throws IOException, InterruptedException {
        Process p;
        try {
            p = new ProcessBuilder(new ArrayList<>(List.of(cmd))).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new AssertionError(cmd[0] + " is not installed (Debian's dpkg package; `.ci/run` installs it)", e);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", cmd) + ": " + out).isZero();
        return out.strip();
    }
}
