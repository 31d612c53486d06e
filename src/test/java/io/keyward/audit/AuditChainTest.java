package io.keyward.audit;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyward.cli.Cli;
import io.keyward.rotation.AuditEvent;
import io.keyward.testing.TestDirs;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The audit hash chain: written across restarts and rolled files, and every kind of tampering found. */
final class AuditChainTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private static Path write(Path file, int events, JsonAuditLog.Rolling rolling) throws Exception {
        try (JsonAuditLog log = JsonAuditLog.open(file, "chain", Clock.systemUTC(), rolling)) {
            for (int i = 0; i < events; i++) {
                log.record(AuditEvent.of("vault.read").path("secret/app/" + i).version(i + 1)
                        .fingerprint("hmac-sha256:" + "ab".repeat(16)).attribute("detail", "padding ".repeat(8)).build());
            }
        }
        return file;
    }

    @Test
    void chainStartsAtGenesis_andContinuesAcrossARestart() throws Exception {
        Path file = TestDirs.fresh("chain").resolve("audit.jsonl");
        write(file, 3, JsonAuditLog.Rolling.DEFAULT);
        write(file, 2, JsonAuditLog.Rolling.DEFAULT);

        List<String> lines = Files.readAllLines(file);
        assertThat(lines).hasSize(5);
        JsonNode first = JSON.readTree(lines.get(0));
        assertThat(first.path("seq").asLong()).isEqualTo(1);
        assertThat(first.path("prev_hash").asString()).isEqualTo(AuditChain.GENESIS);
        JsonNode fourth = JSON.readTree(lines.get(3));
        assertThat(fourth.path("seq").asLong()).isEqualTo(4);
        assertThat(fourth.path("prev_hash").asString()).isEqualTo(AuditChain.hash(lines.get(2)));
        AuditChain.Report report = AuditChain.verify(List.of(file));
        assertThat(report.intact()).as(report.problem().orElse("")).isTrue();
        assertThat(report.lines()).isEqualTo(5);
    }

    @Test
    void changedLine_isNamed() throws Exception {
        Path file = write(TestDirs.fresh("chain").resolve("audit.jsonl"), 5, JsonAuditLog.Rolling.DEFAULT);
        List<String> lines = new ArrayList<>(Files.readAllLines(file));
        lines.set(2, lines.get(2).replace("\"outcome\":\"ok\"", "\"outcome\":\"denied\""));
        Files.write(file, lines);

        AuditChain.Report report = AuditChain.verify(List.of(file));
        assertThat(report.problem()).hasValueSatisfying(p -> assertThat(p).startsWith(file + ":3 (seq 3) was changed"));
        assertThat(report.lines()).isEqualTo(3);
    }

    @Test
    void removedLine_isNamed() throws Exception {
        Path file = write(TestDirs.fresh("chain").resolve("audit.jsonl"), 5, JsonAuditLog.Rolling.DEFAULT);
        List<String> lines = new ArrayList<>(Files.readAllLines(file));
        lines.remove(1);
        Files.write(file, lines);

        assertThat(AuditChain.verify(List.of(file)).problem())
                .hasValueSatisfying(p -> assertThat(p).isEqualTo(file + ":2: line with seq 2 missing before this line (removed or moved)"));
    }

    @Test
    void reorderedOrRepeatedLines_areNamed() throws Exception {
        Path file = write(TestDirs.fresh("chain").resolve("audit.jsonl"), 5, JsonAuditLog.Rolling.DEFAULT);
        List<String> original = Files.readAllLines(file);
        List<String> lines = new ArrayList<>(original);
        Collections.swap(lines, 2, 3);
        Files.write(file, lines);
        assertThat(AuditChain.verify(List.of(file)).problem()).hasValueSatisfying(p -> assertThat(p)
                .isEqualTo(file + ":3: line with seq 3 missing before this line (removed or moved)"));

        lines = new ArrayList<>(original);
        lines.add(original.get(1));
        Files.write(file, lines);
        assertThat(AuditChain.verify(List.of(file)).problem()).hasValueSatisfying(p -> assertThat(p)
                .startsWith(file + ":6: seq 2 follows seq 5").contains("reordered or repeated"));
    }

    @Test
    void rolledFiles_keepTheChain_andTheCommandChecksThemAll() throws Exception {
        Path dir = TestDirs.fresh("chain-roll");
        Path file = dir.resolve("audit.jsonl");
        write(file, 400, new JsonAuditLog.Rolling(16 * 1024, 7));

        List<Path> all = AuditChain.withRolled(file);
        assertThat(all.size()).as("rolled files").isGreaterThan(2);
        AuditChain.Report report = AuditChain.verify(all);
        assertThat(report.intact()).as(report.problem().orElse("")).isTrue();
        assertThat(report.lines()).isEqualTo(400);

        String[] args = new String[all.size() + 2];
        args[0] = "audit";
        args[1] = "verify";
        for (int i = 0; i < all.size(); i++) args[i + 2] = all.get(i).toString();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(out, true, StandardCharsets.UTF_8);
        assertThat(Cli.run(args, ps, ps, Map.of())).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("ok: 400 lines in " + all.size() + " files");

        // Dropping a whole rolled file from the middle is a removal.
        List<Path> gap = new ArrayList<>(all);
        gap.remove(1);
        assertThat(AuditChain.verify(gap).problem()).hasValueSatisfying(p -> assertThat(p).contains("missing before this line"));
        out.reset();
        String[] gapArgs = new String[gap.size() + 2];
        gapArgs[0] = "audit";
        gapArgs[1] = "verify";
        for (int i = 0; i < gap.size(); i++) gapArgs[i + 2] = gap.get(i).toString();
        assertThat(Cli.run(gapArgs, ps, ps, Map.of())).isEqualTo(5);
        assertThat(out.toString(StandardCharsets.UTF_8)).startsWith("BROKEN after ");

        // A restart after rolling continues from the newest line.
        write(file, 1, new JsonAuditLog.Rolling(16 * 1024, 7));
        assertThat(AuditChain.verify(AuditChain.withRolled(file)).lines()).isEqualTo(401);
    }
}
