package io.keyward.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyward.testing.Leaks;
import io.keyward.testing.TestDirs;
import io.keyward.testing.TestVault;
import io.keyward.testing.VaultExtension;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VaultExtension.class)
final class CliTest {

    /** One run of the command line with captured output. */
    record Run(int code, String out, String err) {}

    static Run run(Map<String, String> env, String... args) {
        return runWithInput("", env, args);
    }

    /** A run whose standard input holds {@code input}. */
    static Run runWithInput(String input, Map<String, String> env, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Cli.run(args, new java.io.ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8)),
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), env);
        Run r = new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        try {
            // Kept for the leak scan: whatever the CLI printed counts as something the suite wrote.
            Path log = TestDirs.logs().resolve("cli-output.log");
            Files.createDirectories(log.getParent());
            Files.writeString(log, String.join(" ", args) + "\n" + r.out + r.err, StandardCharsets.UTF_8,
                    java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return r;
    }

    @Test
    void help_listsTheCommands() {
        Run r = run(Map.of(), "--help");
        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("Usage: keyward").contains("check").contains("Exit codes:");
    }

    /** The shipped example configuration and policy give a Vault policy, as HCL or JSON, without a Vault. */
    @Test
    void vaultPolicy_ofTheExamples_inHclAndJson_andAnUnknownOutputIsAUsageError() throws Exception {
        Map<String, String> env = Map.of("CREDENTIALS_DIRECTORY", "/nonexistent");
        String[] examples = {"-c", "config/keyward.yaml", "--policy", "config/policy.yaml"};
        Run hcl = run(env, concat(new String[] {"vault-policy"}, examples));
        assertThat(hcl.code()).as(hcl.err()).isZero();
        assertThat(hcl.out()).contains("path \"secret/data/apps/payments/db\" {\n  capabilities = [\"create\", \"read\", \"update\"]\n}")
                .contains("path \"auth/token/renew-self\"").doesNotContain("\"secret/*\"");
        Run json = run(env, concat(new String[] {"vault-policy", "--output", "json"}, examples));
        assertThat(json.code()).as(json.err()).isZero();
        tools.jackson.databind.JsonNode doc = tools.jackson.databind.json.JsonMapper.builder().build().readTree(json.out());
        assertThat(doc.path("path").path("secret/metadata/apps/payments/db").path("capabilities").toString())
                .isEqualTo("[\"read\",\"update\"]");
        Run bad = run(env, concat(new String[] {"vault-policy", "--output", "yaml"}, examples));
        assertThat(bad.code()).isEqualTo(ExitCode.USAGE.code);
        assertThat(bad.err()).isEqualTo("keyward: --output must be hcl or json, not 'yaml'\n");
    }

    private static String[] concat(String[] a, String[] b) {
        return java.util.stream.Stream.concat(java.util.Arrays.stream(a), java.util.Arrays.stream(b)).toArray(String[]::new);
    }

    @Test
    void everyCommand_answersHelp_withItsOwnUsage_andNeedsNothingElse() {
        java.util.List<String> seen = new java.util.ArrayList<>();
        walk(Cli.commandLine(new Cli.Context(System.out, System.err, Map.of(), System.in)), java.util.List.of(), seen);

        assertThat(seen).contains("run", "check", "sync", "fleet forget", "audit verify", "help").hasSizeGreaterThan(15);
    }

    private static void walk(picocli.CommandLine command, java.util.List<String> path, java.util.List<String> seen) {
        for (var sub : command.getSubcommands().entrySet()) {
            java.util.List<String> words = new java.util.ArrayList<>(path);
            words.add(sub.getKey());
            java.util.List<String> args = new java.util.ArrayList<>(words);
            args.add("--help");
            Run r = run(Map.of(), args.toArray(String[]::new));
            assertThat(r.code()).as("keyward %s --help: %s", String.join(" ", words), r.err()).isZero();
            assertThat(r.out()).as("keyward %s --help", String.join(" ", words))
                    .contains("Usage: keyward " + String.join(" ", words) + " [").contains("-h, --help");
            assertThat(r.err()).isEmpty();
            seen.add(String.join(" ", words));
            walk(sub.getValue(), words, seen);
        }
    }

    @Test
    void noArguments_printsUsage() {
        Run r = run(Map.of());
        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("Usage: keyward");
    }

    @Test
    void version_printsTheProjectVersion() {
        Run r = run(Map.of(), "--version");
        assertThat(r.code()).isZero();
        assertThat(r.out().strip()).matches("keyward \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?");
    }

    @Test
    void unknownCommand_isAUsageError() {
        Run r = run(Map.of(), "rotat");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("rotat");
    }

    @Test
    void check_againstRealVault_succeeds(TestVault vault) throws Exception {
        Path dir = TestDirs.fresh("cli");
        Path config = writeConfig(dir, vault.address().toString());
        Run r = run(Map.of("VAULT_TOKEN", vault.rootToken()), "check", "--config", config.toString());

        assertThat(r.err()).isEmpty();
        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("config  " + config + ": ok (agent cli-test)")
                .contains("vault   " + vault.address() + ": logged in by token")
                .contains("state   secret/keyward-cli: KV v2")
                .containsPattern("node    " + java.util.regex.Pattern.quote(vault.address().toString())
                        + ": (a single node|the active node|a standby)")
                .doesNotContain(vault.rootToken());
        assertThat(Files.readString(dir.resolve("audit.jsonl"))).contains("\"event\":\"vault.login\"");
    }

    @Test
    void check_badConfig_exits2_withEveryProblem() throws Exception {
        Path config = Files.writeString(TestDirs.fresh("cli").resolve("bad.yaml"),
                "vault:\n  adress: http://x\n  auth:\n    method: approle\n");
        Run r = run(Map.of(), "check", "-c", config.toString());

        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("keyward: configuration problem: 3 problems:")
                .contains(config + ":2:3: unknown key 'adress'")
                .contains("role_id_file is missing");
    }

    @Test
    void check_wrongToken_exits3_withoutEchoingIt(TestVault vault) throws Exception {
        Path config = writeConfig(TestDirs.fresh("cli"), vault.address().toString());
        String wrong = Leaks.secret("cli-wrong-token");
        Run r = run(Map.of("VAULT_TOKEN", wrong), "check", "--config", config.toString());

        assertThat(r.code()).isEqualTo(3);
        assertThat(r.err()).contains("HTTP 403: permission denied").doesNotContain(wrong);
        assertThat(r.out() + r.err()).doesNotContain(wrong);
    }

    @Test
    void check_configFromEnvironmentVariable(TestVault vault) throws Exception {
        Path config = writeConfig(TestDirs.fresh("cli"), vault.address().toString());
        Run r = run(Map.of("VAULT_TOKEN", vault.rootToken(), "KEYWARD_CONFIG", config.toString()), "check");
        assertThat(r.code()).isZero();
    }

    @Test
    void check_auditPathThatIsAFile_exits2_namingIt(TestVault vault) throws Exception {
        Path dir = TestDirs.fresh("cli");
        Path blocker = Files.writeString(dir.resolve("not-a-folder"), "x");
        Path config = Files.writeString(dir.resolve("keyward.yaml"), String.join("\n",
                "vault:", "  address: " + vault.address(),
                "audit:", "  file: " + blocker.resolve("audit.jsonl"), "  hmac_key_file: " + dir.resolve("hmac.key"), ""));
        Run r = run(Map.of("VAULT_TOKEN", vault.rootToken()), "check", "--config", config.toString());

        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).startsWith("keyward: " + blocker);
    }

    @Test
    void check_missingConfig_saysWhichFile() {
        Run r = run(Map.of(), "check", "--config", "/nonexistent/keyward.yaml");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("/nonexistent/keyward.yaml:1:1: file not found");
    }

    private static Path writeConfig(Path dir, String address) throws Exception {
        return Files.writeString(dir.resolve("keyward.yaml"), String.join("\n",
                "agent:",
                "  id: cli-test",
                "vault:",
                "  address: " + address,
                "state:",
                "  mount: secret",
                "  path: keyward-cli",
                "  dir: " + dir.resolve("state"),
                "audit:",
                "  file: " + dir.resolve("audit.jsonl"),
                "  hmac_key_file: " + dir.resolve("hmac.key"),
                ""));
    }
}
