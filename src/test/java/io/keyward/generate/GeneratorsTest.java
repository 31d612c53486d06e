package io.keyward.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keyward.policy.Policy;
import io.keyward.rotation.Plugins;
import io.keyward.rotation.SecretData;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

final class GeneratorsTest {

    private final Generators generators = new Generators(new SecureRandom(), Map.of("GREETING", "hello"));

    @Test
    void random_honoursLengthPrefixAndClassMinimums() throws Exception {
        Policy.SecretPolicy s = Policy.parse("g.yaml", String.join("\n", "secrets:", "  - id: g", "    path: g",
                "    generator: { type: random, length: 20, prefix: pk_, classes: { digits: 5, symbols: 3 } }",
                "    schedule: { every: 1d }", "")).secrets().get(0);
        Plugins.Generator g = generators.generator(s).orElseThrow();
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            String v = g.generate();
            assertThat(v).hasSize(20).startsWith("pk_");
            String body = v.substring(3);
            assertThat(body.chars().filter(Character::isDigit).count()).isGreaterThanOrEqualTo(5);
            assertThat(body.chars().filter(c -> Policy.CharClass.SYMBOLS.alphabet.indexOf(c) >= 0).count())
                    .isGreaterThanOrEqualTo(3);
            assertThat(body).matches("[0-9!#%+\\-.:=?@^_~]+");
            seen.add(v);
        }
        assertThat(seen).hasSize(200);
    }

    @Test
    void command_printsTheValue_withTheAgentsEnvironment() throws Exception {
        Commands.Generator g = new Commands.Generator(List.of("bash", "-c", "echo \"$GREETING-world\""),
                Duration.ofSeconds(5), Map.of("GREETING", "hello"));
        assertThat(g.generate()).isEqualTo("hello-world");
    }

    @Test
    void command_failures_areClear() {
        assertThatThrownBy(() -> new Commands.Generator(List.of("bash", "-c", "exit 3"), Duration.ofSeconds(5), Map.of())
                .generate()).hasMessage("bash exited with 3");
        assertThatThrownBy(() -> new Commands.Generator(List.of("bash", "-c", "true"), Duration.ofSeconds(5), Map.of())
                .generate()).hasMessage("bash printed nothing");
        assertThatThrownBy(() -> new Commands.Generator(List.of("sleep", "5"), Duration.ofMillis(300), Map.of())
                .generate()).hasMessage("generator: sleep did not finish within 300 ms");
        assertThatThrownBy(() -> new Commands.Generator(List.of("/nonexistent/tool"), Duration.ofSeconds(1), Map.of())
                .generate()).hasMessageStartingWith("generator: cannot start /nonexistent/tool");
    }

    /**
     * A generator that times out is killed with every process it started (a shell's background
     * child too), as reload and health commands are: one runner for all of them.
     */
    @Test
    void aCommandThatTimesOut_isKilledWithItsChildren() throws Exception {
        java.nio.file.Path pidFile = io.keyward.testing.TestDirs.fresh("generator-tree").resolve("child.pid");
        assertThatThrownBy(() -> new Commands.Generator(List.of("bash", "-c", "sleep 600 & echo $! > " + pidFile + "; wait"),
                Duration.ofMillis(500), Map.of()).generate()).hasMessageContaining("did not finish within 500 ms");
        long child = Long.parseLong(java.nio.file.Files.readString(pidFile).strip());
        long until = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
        while (running(child) && System.nanoTime() < until) Thread.sleep(50);
        assertThat(running(child)).as("child " + child + " still runs").isFalse();
    }

    /** Alive and not a zombie waiting to be reaped (whoever adopted it may not reap at once). */
    private static boolean running(long pid) throws java.io.IOException {
        java.nio.file.Path stat = java.nio.file.Path.of("/proc", String.valueOf(pid), "stat");
        if (!java.nio.file.Files.exists(stat)) return false;
        String s;
        try {
            s = java.nio.file.Files.readString(stat);
        } catch (java.nio.file.NoSuchFileException gone) {
            return false;
        }
        return s.charAt(s.lastIndexOf(')') + 2) != 'Z';
    }

    @Test
    void verifier_exit1IsARejection_otherCodesAreFailures() {
        SecretData v = SecretData.of("key", "candidate");
        Commands.Verifier no = new Commands.Verifier(List.of("bash", "-c", "read k; [ \"$k\" = other ]"),
                Duration.ofSeconds(5), "key", Map.of());
        Commands.Verifier broken = new Commands.Verifier(List.of("bash", "-c", "exit 7"), Duration.ofSeconds(5), "key", Map.of());
        Commands.Verifier yes = new Commands.Verifier(List.of("bash", "-c", "read k; [ \"$k\" = candidate ]"),
                Duration.ofSeconds(5), "key", Map.of());

        assertThatThrownBy(() -> no.verify("s", v)).isInstanceOf(Plugins.Rejected.class);
        assertThatThrownBy(() -> broken.verify("s", v)).isNotInstanceOf(Plugins.Rejected.class).hasMessage("bash exited with 7");
        org.assertj.core.api.Assertions.assertThatCode(() -> yes.verify("s", v)).doesNotThrowAnyException();
    }

    @Test
    void commandPlugins_neverShowTheirEnvironment() throws Exception {
        Map<String, String> env = Map.of("VAULT_TOKEN", "hvs.must-not-show");
        Policy.IssuerSpec.Command spec = new Policy.IssuerSpec.Command("legacy", List.of("/bin/issue"), List.of("/bin/revoke"),
                List.of(), Duration.ofSeconds(1));
        assertThat(new Generators(new SecureRandom(), env).issuer(spec).toString()).isEqualTo("CommandIssuer[legacy]");
        assertThat(new Commands.Generator(List.of("/bin/gen"), Duration.ofSeconds(1), env).toString()).doesNotContain("hvs.");
        assertThat(new Commands.Verifier(List.of("/bin/v"), Duration.ofSeconds(1), "k", env).toString()).doesNotContain("hvs.");
    }
}
