package io.keyward.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * An application outside keyward, as its own process ({@code src/test/resources/consumer.py}): it
 * reads key files every few milliseconds as an application would and checks each key against the
 * issuer's revocations (issuer.sh's state folder). What keyward believes (its ledger, journal and
 * audit) plays no part: only what the files hold.
 */
public final class OutsideConsumer implements AutoCloseable {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    /**
     * A file the application reads: its format (raw, env, json, properties, template), the key's
     * field, and where its keys are judged (null: the consumer's issuer state).
     */
    public record File(Path path, String format, String field, String template, Path issuerState) {
        public static File raw(Path path) {
            return new File(path, "raw", "value", null, null);
        }

        public File(Path path, String format, String field, String template) {
            this(path, format, field, template, null);
        }

        /** This file, its keys judged by the issuer state in {@code state}. */
        public File judgedBy(Path state) {
            return new File(path, format, field, template, state);
        }

        Map<String, Object> spec() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("path", path.toString());
            m.put("format", format);
            m.put("field", field);
            if (template != null) m.put("template", template);
            if (issuerState != null) m.put("issuer_state", issuerState.toString());
            return m;
        }
    }

    /**
     * What the application saw: reads of a key; reads of a revoked key (the file still held it when
     * read again) and in how many episodes (a file holding one revoked key for a while is one);
     * reads of a key the issuer never knew; returns of a file to a key it held before another (a
     * version delivered again out of order); and the first few of those reads.
     */
    public record Figures(long reads, long revokedReads, long episodes, long unknownReads, long backward, List<String> examples) {
        @Override
        public String toString() {
            return reads + " reads, " + revokedReads + " of a revoked key in " + episodes + " episodes, "
                    + backward + " returns to an earlier key"
                    + (examples.isEmpty() ? "" : " (first: " + String.join("; ", examples) + ")");
        }
    }

    private final Process process;
    private final Path out;

    private OutsideConsumer(Process process, Path out) {
        this.process = process;
        this.out = out;
    }

    /** Starts reading {@code files} every {@code intervalMs}, judging keys by the issuer state in {@code issuerState}. */
    public static OutsideConsumer start(Path issuerState, List<File> files, int intervalMs, Path logs) throws IOException {
        Path dir = Files.createDirectories(logs.resolve("consumer"));
        List<Map<String, Object>> specs = new ArrayList<>();
        files.forEach(f -> specs.add(f.spec()));
        Map<String, Object> spec = Map.of("issuer_state", issuerState.toString(), "interval_ms", intervalMs, "files", specs);
        Path specFile = Files.writeString(dir.resolve("spec.json"), JSON.writeValueAsString(spec));
        Path out = dir.resolve("figures.json");
        Files.deleteIfExists(out);
        Path script = TestDirs.target().getParent().resolve("src/test/resources/consumer.py");
        Process p = new ProcessBuilder("python3", script.toString(), specFile.toString(), out.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("consumer.log").toFile()).start();
        return new OutsideConsumer(p, out);
    }

    /** Stops the application (SIGTERM) and returns what it saw. */
    public Figures stop() throws IOException, InterruptedException {
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) throw new AssertionError("the consumer did not stop");
        }
        if (!Files.exists(out)) {
            throw new AssertionError("the consumer wrote no figures; its log: "
                    + Files.readString(out.resolveSibling("consumer.log")));
        }
        JsonNode n = JSON.readTree(Files.readString(out));
        List<String> examples = new ArrayList<>();
        n.path("examples").forEach(e -> examples.add(Path.of(e.path("path").asString()).getFileName()
                + (e.path("backward").asBoolean(false) ? " back to key " : " key ")
                + e.path("key").asString() + " at " + e.path("at_ms").asLong()));
        return new Figures(n.path("reads").asLong(), n.path("revoked_reads").asLong(), n.path("episodes").asLong(),
                n.path("unknown_reads").asLong(), n.path("backward").asLong(), examples);
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}
