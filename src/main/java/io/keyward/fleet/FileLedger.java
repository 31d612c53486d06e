package io.keyward.fleet;

import io.keyward.rotation.Ledger;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.stream.Stream;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The ledger as one append-only file in the agent's state folder
 * ({@code <state.dir>/ledger/deliveries.jsonl}): a JSON line per change of a secret's entry
 * (versions and fingerprints, never a value), the last line of a secret winning. Entries are held
 * in memory; every read first looks at the file (one stat) and applies the lines another process
 * appended meanwhile (a command run beside the service), so each process sees the file's order.
 * A line goes in with one append, so a reader sees a whole entry or none; a torn last line (a
 * crash mid-write) is skipped. The file is rewritten (by a rename) once it holds many more lines
 * than secrets.
 *
 * <p>Losing an entry (a new host, a rebuilt folder, a line lost) only makes the agent deliver
 * again, never less: the ledger says what was delivered, and every target write is durable before
 * it is recorded. That is also why the ledger itself is not fsynced: a change lost to a power cut
 * means one delivery more.
 */
public final class FileLedger implements Ledger {

    static final String FILE = "deliveries.jsonl";
    private static final JsonMapper JSON = JsonMapper.builder().build();
    /** Lines beyond the live entries after which the file is rewritten: at least this many, or twice the entries. */
    private static final int COMPACT_AFTER = 10_000;

    private final Path folder;
    private final Path file;
    private final Map<String, Entry> entries = new HashMap<>();
    /** The file the entries were read from (its inode), and how far (bytes of whole lines). */
    private Object readKey;
    private long readTo;
    private long lines;
    private FileOutputStream out;
    private Object outKey;
    /** Whether a ledger of one file per secret was looked for (once per instance). */
    private boolean importChecked;

    private FileLedger(Path folder) {
        this.folder = folder;
        this.file = folder.resolve(FILE);
    }

    /** A ledger in {@code folder}; nothing is created until the first delivery is recorded. */
    public static FileLedger open(Path folder) {
        return new FileLedger(folder.toAbsolutePath());
    }

    public Path folder() {
        return folder;
    }

    /** The file that holds the entries. */
    public Path file() {
        return file;
    }

    @Override
    public synchronized Entry get(String secretId) throws IOException {
        refresh();
        return entries.getOrDefault(secretId, Entry.EMPTY);
    }

    @Override
    public synchronized void put(String secretId, Entry entry) throws IOException {
        refresh();
        if (entry.equals(entries.get(secretId))) return;
        byte[] line = (encode(secretId, entry) + "\n").getBytes(StandardCharsets.UTF_8);
        FileOutputStream stream = appender();
        stream.write(line);
        entries.put(secretId, entry);
        lines++;
        // Nobody appended between the last read and this line: it need not be read back.
        long end = stream.getChannel().size();
        if (Objects.equals(outKey, readKey) && end - line.length == readTo) readTo = end;
        if (lines > Math.max(COMPACT_AFTER, 2L * entries.size())) compact();
    }

    /** Applies what was appended to the file since it was last read; a file replaced (rewritten elsewhere) is read again whole. */
    private void refresh() throws IOException {
        BasicFileAttributes at;
        try {
            at = Files.readAttributes(file, BasicFileAttributes.class);
        } catch (NoSuchFileException missing) {
            if (!importChecked) {
                importChecked = true;
                importOldFiles();
            }
            return;
        }
        Object key = at.fileKey();
        if (!Objects.equals(key, readKey)) {
            entries.clear();
            readTo = 0;
            lines = 0;
            readKey = key;
        }
        if (at.size() > readTo) readFrom(readTo);
    }

    private void readFrom(long offset) throws IOException {
        byte[] tail;
        try (InputStream in = Files.newInputStream(file)) {
            in.skipNBytes(offset);
            tail = in.readAllBytes();
        } catch (NoSuchFileException replaced) {
            return;
        }
        int start = 0;
        for (int i = 0; i < tail.length; i++) {
            if (tail[i] != '\n') continue;
            apply(new String(tail, start, i - start, StandardCharsets.UTF_8));
            start = i + 1;
        }
        readTo = offset + start; // a torn last line stays unread until its end arrives
    }

    private void apply(String line) {
        if (line.isBlank()) return;
        lines++;
        try {
            JsonNode doc = JSON.readTree(line);
            String secret = doc.path("secret").asString("");
            if (!secret.isEmpty()) entries.put(secret, decode(doc));
        } catch (JacksonException | IllegalArgumentException | NullPointerException unreadable) {
            // a damaged line: that secret's earlier entry stands, or none (the agent delivers again)
        }
    }

    private FileOutputStream appender() throws IOException {
        if (out != null && Objects.equals(outKey, readKey)) return out;
        closeAppender();
        Files.createDirectories(folder);
        boolean torn = Files.exists(file) && Files.size(file) > 0 && lastByte() != '\n';
        out = new FileOutputStream(file.toFile(), true);
        if (torn) out.write('\n'); // a line cut off by a crash stays apart from the next one
        Object key = Files.readAttributes(file, BasicFileAttributes.class).fileKey();
        outKey = key;
        if (readKey == null) {
            readKey = key;
            readTo = 0;
            readFrom(0);
        }
        return out;
    }

    private int lastByte() throws IOException {
        try (var ch = java.nio.channels.FileChannel.open(file)) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(1);
            ch.read(b, ch.size() - 1);
            return b.get(0);
        }
    }

    /** Rewrites the file with one line per secret, replacing it by a rename. */
    private void compact() throws IOException {
        Path tmp = Files.createTempFile(folder, "." + FILE + ".", ".tmp");
        try {
            StringBuilder text = new StringBuilder();
            for (Map.Entry<String, Entry> e : new TreeMap<>(entries).entrySet()) text.append(encode(e.getKey(), e.getValue())).append('\n');
            Files.writeString(tmp, text);
            move(tmp, file);
        } finally {
            Files.deleteIfExists(tmp);
        }
        closeAppender();
        BasicFileAttributes at = Files.readAttributes(file, BasicFileAttributes.class);
        readKey = at.fileKey();
        readTo = at.size();
        lines = entries.size();
    }

    /**
     * A ledger kept as one file per secret ({@code <id>.json}, as keyward 0.x wrote it) is taken
     * over once: its entries go into the log, and the old files are removed.
     */
    private void importOldFiles() throws IOException {
        if (!Files.isDirectory(folder)) return;
        List<Path> old;
        try (Stream<Path> s = Files.list(folder)) {
            old = s.filter(p -> p.getFileName().toString().endsWith(".json")).toList();
        }
        if (old.isEmpty()) return;
        for (Path p : old) {
            String name = p.getFileName().toString();
            try {
                entries.put(name.substring(0, name.length() - ".json".length()), decode(JSON.readTree(Files.readString(p))));
            } catch (JacksonException | IllegalArgumentException | NullPointerException | IOException unreadable) {
                // delivered again
            }
        }
        compact();
        for (Path p : old) Files.deleteIfExists(p);
    }

    private void closeAppender() {
        if (out == null) return;
        try {
            out.close();
        } catch (IOException e) {
            // the next append opens it again
        }
        out = null;
        outKey = null;
    }

    private static String encode(String secretId, Entry entry) {
        Map<String, Object> targets = new TreeMap<>();
        entry.targets().forEach((id, d) -> targets.put(id, Map.of("version", d.version(), "fingerprint", d.fingerprint())));
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("secret", secretId);
        doc.put("targets", targets);
        if (entry.settled() != null) doc.put("settled", entry.settled());
        return JSON.writeValueAsString(doc);
    }

    private static Entry decode(JsonNode doc) {
        Map<String, Delivery> targets = new TreeMap<>();
        for (Map.Entry<String, JsonNode> t : doc.path("targets").properties()) {
            targets.put(t.getKey(), new Delivery(t.getValue().path("version").asInt(0),
                    t.getValue().path("fingerprint").asString("")));
        }
        return new Entry(targets, doc.path("settled").asString(null));
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    @Override
    public String toString() {
        return "FileLedger[" + file + "]";
    }
}
