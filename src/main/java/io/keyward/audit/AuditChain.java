package io.keyward.audit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The audit files' hash chain: each line carries {@code seq} (one more than the line before)
 * and {@code prev_hash} (SHA-256 of the line before, as written, without its newline). The first
 * line ever written has {@code prev_hash} of 64 zeros. {@link #verify} reads files oldest first
 * and names the first line that was changed, removed or reordered. Truncation at the very end
 * leaves no trace in the chain itself; compare the last seq with what monitoring saw.
 */
public final class AuditChain {

    /** prev_hash of the first line ever written. */
    public static final String GENESIS = "0".repeat(64);
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Pattern ROLLED = Pattern.compile("\\.(\\d{4}-\\d{2}-\\d{2})\\.(\\d+)$");

    private AuditChain() {}

    /** The last line written: its seq and hash (seq 0 and {@link #GENESIS} when there is none). */
    record Link(long seq, String hash, Optional<java.time.Instant> time) {}

    /** SHA-256 of a line, hex. */
    public static String hash(String line) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(line.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    /** Where the chain stands: the last line of the active file, else of the newest rolled file. */
    static Link lastLink(Path active) throws IOException {
        Optional<String> last = lastLine(active);
        if (last.isEmpty()) {
            List<Path> rolled = rolledFiles(active);
            for (int i = rolled.size() - 1; i >= 0 && last.isEmpty(); i--) last = lastLine(rolled.get(i));
        }
        if (last.isEmpty()) return new Link(0, GENESIS, Optional.empty());
        long seq = 0;
        Optional<java.time.Instant> time = Optional.empty();
        try {
            JsonNode node = JSON.readTree(last.get());
            seq = node.path("seq").asLong(0);
            time = Optional.of(java.time.Instant.parse(node.path("time").asString()));
        } catch (JacksonException | java.time.format.DateTimeParseException e) {
            // a damaged last line: the chain goes on from its hash; verify will report it
        }
        return new Link(seq, hash(last.get()), time);
    }

    /** The rolled files of an active audit file (FILE.YYYY-MM-DD.N), oldest first. */
    public static List<Path> rolledFiles(Path active) throws IOException {
        Path dir = active.toAbsolutePath().getParent();
        String prefix = active.getFileName().toString() + ".";
        if (dir == null || !Files.isDirectory(dir)) return List.of();
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith(prefix))
                    .filter(p -> ROLLED.matcher(p.getFileName().toString()).find())
                    .sorted(Comparator.comparing((Path p) -> rolledKey(p, 1)).thenComparing(p -> Long.parseLong(rolledKey(p, 2))))
                    .toList();
        }
    }

    private static String rolledKey(Path p, int group) {
        Matcher m = ROLLED.matcher(p.getFileName().toString());
        return m.find() ? m.group(group) : "";
    }

    private static Optional<String> lastLine(Path file) throws IOException {
        if (!Files.isRegularFile(file) || Files.size(file) == 0) return Optional.empty();
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            long size = f.length();
            int block = (int) Math.min(size, 1 << 20);
            byte[] tail = new byte[block];
            f.seek(size - block);
            f.readFully(tail);
            String text = new String(tail, StandardCharsets.UTF_8);
            String[] lines = text.split("\n");
            for (int i = lines.length - 1; i >= 0; i--) {
                if (!lines[i].isBlank()) return Optional.of(lines[i]);
            }
            return Optional.empty();
        }
    }

    /** The result of a verification: lines checked, and the first problem if any. */
    public record Report(long lines, Optional<String> problem) {
        public boolean intact() {
            return problem.isEmpty();
        }
    }

    /**
     * Checks the chain through {@code files}, taken in the order given (oldest first). The first
     * line may continue a chain from a file not given; from there on every link must hold.
     */
    public static Report verify(List<Path> files) throws IOException {
        String prevHash = null;
        long prevSeq = 0;
        String prevWhere = null;
        long count = 0;
        for (Path file : files) {
            try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                String line;
                long n = 0;
                while ((line = in.readLine()) != null) {
                    n++;
                    String where = file + ":" + n;
                    if (line.isBlank()) return new Report(count, Optional.of(where + ": empty line (a line was changed)"));
                    JsonNode node;
                    try {
                        node = JSON.readTree(line);
                    } catch (JacksonException e) {
                        return new Report(count, Optional.of(where + ": not a JSON audit line (it was changed)"));
                    }
                    if (!node.path("seq").isIntegralNumber() || !node.path("prev_hash").isString()) {
                        return new Report(count, Optional.of(where + ": no seq or prev_hash (changed, or written by a "
                                + "keyward without the hash chain)"));
                    }
                    long seq = node.path("seq").asLong();
                    String claimed = node.path("prev_hash").asString();
                    if (prevHash == null) {
                        if (seq == 1 && !GENESIS.equals(claimed)) {
                            return new Report(count, Optional.of(where + ": the first line of the chain has a prev_hash "
                                    + "other than " + GENESIS + " (it was changed)"));
                        }
                    } else if (seq > prevSeq + 1) {
                        return new Report(count, Optional.of(where + ": line" + (seq - prevSeq > 2 ? "s" : "") + " with seq "
                                + (prevSeq + 1) + (seq - prevSeq > 2 ? ".." + (seq - 1) : "") + " missing before this line (removed or moved)"));
                    } else if (seq <= prevSeq) {
                        return new Report(count, Optional.of(where + ": seq " + seq + " follows seq " + prevSeq + " at "
                                + prevWhere + " (lines reordered or repeated)"));
                    } else if (!claimed.equals(prevHash)) {
                        return new Report(count, Optional.of(prevWhere + " (seq " + prevSeq + ") was changed: its hash does not "
                                + "match the prev_hash of the line after it"));
                    }
                    count++;
                    prevHash = hash(line);
                    prevSeq = seq;
                    prevWhere = where;
                }
            }
        }
        return new Report(count, Optional.empty());
    }

    /** Every audit file in order: the rolled ones of {@code active}, oldest first, then {@code active}. */
    public static List<Path> withRolled(Path active) throws IOException {
        List<Path> all = new ArrayList<>(rolledFiles(active));
        if (Files.exists(active)) all.add(active);
        return all;
    }
}
