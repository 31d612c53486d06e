package io.keyward.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A policy of tens of thousands of secrets is read whole; a file past the size keyward reads is refused by name. */
final class LargePolicyTest {

    @Test
    void aPolicyLargerThanSnakeYamlsDefaultLimit_loads(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("policy.yaml"), policy(20_000));
        assertThat(Files.size(file)).isGreaterThan(3L * 1024 * 1024);

        assertThat(Policy.load(file).secrets()).hasSize(20_000);
    }

    @Test
    void aPolicyTooLargeForTheHeap_isOneLineNamingTheFixNotAStackTrace(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("policy.yaml"), policy(60_000));
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx24m",
                "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), "io.keyward.cli.Main", "validate",
                "--policy", file.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);

        assertThat(p.waitFor()).as(out).isEqualTo(2);
        assertThat(out).contains(file + ":1:1: the policy does not fit in keyward's memory (a Java heap of at most")
                .contains("-Xmx in KEYWARD_JAVA_OPTS").doesNotContain("OutOfMemoryError").doesNotContain("\tat ");
    }

    private static String policy(int secrets) {
        StringBuilder yaml = new StringBuilder("defaults: { watch: off }\nsecrets:\n");
        for (int i = 0; i < secrets; i++) {
            yaml.append("  - { id: s").append(i).append(", path: large/s").append(i)
                    .append(", fields: [password], generator: { type: random }, schedule: { every: 30d },")
                    .append(" targets: [{ id: f, type: file, path: /var/lib/app/secrets/s").append(i).append(" }] }\n");
        }
        return yaml.toString();
    }

    @Test
    void aFileLargerThanKeywardReads_isRefusedWithItsSize(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("huge.yaml");
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(YamlLoader.MAX_CHARS + 1L); // sparse: takes no room on disk
        }
        assertThatThrownBy(() -> Policy.load(file))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(file + ":1:1: the file is 67,108,865 bytes, more than the 64 MiB keyward reads");
    }
}
