package io.keyward.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyward.testing.TestDirs;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The systemd files as systemd itself reads them: `systemd-analyze verify` on both units (their
 * ExecStart pointed at the launcher this repository ships), and `systemd-analyze security` for
 * the exposure score, recorded in target/test-logs/systemd-security.txt. Needs systemd-analyze
 * (`.ci/run` installs Debian's systemd package where it is missing); fails without it.
 */
final class SystemdUnitTest {

    private static final Path UNITS = Path.of("systemd");
    private static final Path LAUNCHER = Path.of("packaging/keyward").toAbsolutePath();

    @Test
    void unitsPassSystemdAnalyzeVerify() throws Exception {
        Path dir = TestDirs.fresh("systemd-verify");
        for (String unit : List.of("keyward.service", "keyward-check.service")) {
            Path copy = dir.resolve(unit);
            Files.writeString(copy, Files.readString(UNITS.resolve(unit)).replace("/usr/bin/keyward", LAUNCHER.toString()));
            Result r = analyze("verify", copy.toString());
            assertThat(r.output()).as("systemd-analyze verify " + unit).isEmpty();
            assertThat(r.code()).as("systemd-analyze verify " + unit + ": " + r.output()).isZero();
        }
    }

    @Test
    void exposureScore_isAtMostTwo() throws Exception {
        Result r = analyze("security", "--offline=true", "--no-pager", UNITS.resolve("keyward.service").toString());
        Matcher m = Pattern.compile("Overall exposure level for keyward.service: (\\d+\\.\\d+)").matcher(r.output());
        assertThat(m.find()).as(r.output()).isTrue();
        double score = Double.parseDouble(m.group(1));
        Files.writeString(TestDirs.fresh("systemd-security").resolve("systemd-security.txt"), r.output());
        System.out.println("systemd-analyze security keyward.service: exposure " + score);
        assertThat(score).isLessThanOrEqualTo(2.0);
    }

    @Test
    void serviceHasTheOperatorFacingSettings() throws IOException {
        List<String> lines = Files.readAllLines(UNITS.resolve("keyward.service"));
        assertThat(lines).contains("Type=notify", "User=keyward", "ExecStart=/usr/bin/keyward run",
                "ExecReload=/bin/kill -HUP $MAINPID", "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes",
                "PrivateTmp=yes", "PrivateDevices=yes", "CapabilityBoundingSet=",
                "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX", "SystemCallFilter=@system-service",
                "LoadCredential=vault-secret-id:/etc/keyward/vault-secret-id",
                "ReadWritePaths=/var/lib/keyward /var/log/keyward");
        assertThat(lines).anyMatch(l -> l.matches("WatchdogSec=\\d+s"));
        // The example agent configuration reads the credential where systemd puts it.
        assertThat(Files.readString(Path.of("config/keyward.yaml")))
                .contains("secret_id_file: ${CREDENTIALS_DIRECTORY}/vault-secret-id");
        // The folders the unit may write are the ones the tmpfiles snippet creates for the keyward user.
        String tmpfiles = Files.readString(UNITS.resolve("keyward.tmpfiles"));
        assertThat(tmpfiles).contains("d /var/lib/keyward 0700 keyward keyward").contains("d /var/log/keyward 0750 keyward keyward");
        assertThat(Files.readString(UNITS.resolve("keyward.sysusers"))).startsWith("#").contains("u keyward ");
    }

    /** Secrets in memory stay there: no core dump from the unit or the launcher, no attach, no heap dump. */
    @Test
    void unitAndLauncher_allowNoCoreDumpAttachOrHeapDump() throws IOException {
        String unit = Files.readString(UNITS.resolve("keyward.service"));
        String launcher = Files.readString(Path.of("packaging/keyward"));
        assertThat(unit.lines()).contains("LimitCORE=0");
        assertThat(Files.readAllLines(UNITS.resolve("keyward-check.service"))).contains("LimitCORE=0");
        assertThat(launcher.lines()).contains("ulimit -c 0", "sealed=-XX:+DisableAttachMechanism")
                .anyMatch(l -> l.startsWith("exec \"$java\" $sealed "));
        for (String text : List.of(unit, launcher, Files.readString(UNITS.resolve("keyward-check.service")))) {
            assertThat(text).doesNotContain("HeapDumpOnOutOfMemoryError").doesNotContain("HeapDumpPath")
                    .doesNotContain("-DisableAttachMechanism\"");
        }
    }

    private record Result(int code, String output) {}

    private static Result analyze(String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add("systemd-analyze");
        cmd.addAll(List.of(args));
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new AssertionError("systemd-analyze is not installed: install Debian's systemd package "
                    + "(`.ci/run` does) to check the unit files", e);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Result(p.exitValue(), out.strip());
    }
}
