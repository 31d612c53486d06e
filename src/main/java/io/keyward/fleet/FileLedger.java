package io.keyward.fleet;

import io.keyward.rotation.Ledger;
import java.io.Closeable;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The ledger as one append-only file in the agent's own folder of the state folder
 * ({@code <state.dir>/ledger/<agent id>/deliveries.jsonl}): a JSON line per change of a secret's
 * entry (the Vault's installation id, versions, fingerprints and target addresses, never a
 * value), the last line of a secret winning. Entries are held
 * in memory; every read first looks at the file (one stat) and applies the lines another process
 * appended meanwhile (a command run beside the service), so each process sees the file's order.
 * A line goes in with one append, so a reader sees a whole entry or none; a torn last line (a
 * crash mid-write) is skipped. The file is rewritten (by a rename) once it holds many more lines
 * than secrets.
 *
 * <p>Losing an entry (a new host, a rebuilt folder, a line lost) only makes the agent deliver
 * again, never less: the ledger says what was delivered, and every target write is durable before
 * it is recorded. That is also why the ledger itself is not fsynced: a change lost to a power cut
 * means one delivery more. An entry is never the proof that a target holds a version (see
 * {@code rotation.Evidence}).
 */
public final class FileLedger implements Ledger {

    static final String FILE = "deliveries.jsonl";
    static final String LOCK = "deliveries.lock";
    private static final JsonMapper JSON = JsonMapper.builder().build();
    /** Lines beyond the live entries after which the file is rewritten: at least this many, or twice the entries. */
    private static final int COMPACT_AFTER = 10_000;
    private static final Map<String, ReentrantLock> LOCKS = new ConcurrentHashMap<>();
    private static final Map<Path, FileChannel> CHANNELS = new HashMap<>();

    private final Path folder;
    private final Path file;
    private final Map<String, Entry> entries = new HashMap<>();
    /** The file the entries were read from (its inode), and how far (bytes of whole lines). */
    private Object readKey;
    private long readTo;
    private long lines;
    private FileOutputStream out;
    private Object outKey;

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

    /**
     * The secret's lock: a lock of this JVM, then a POSIX record lock of one byte of
     * {@code deliveries.lock} at an offset of the secret's hash (two secrets of one hash share a
     * lock), which another process of this agent takes too. The lock file is opened once per JVM and
     * kept open: closing any descriptor of it would drop every record lock the process holds on it.
     */
    @Override
    public Closeable lock(String secretId) throws IOException {
        FileChannel channel = lockFile();
        int slot = secretId.hashCode() & 0x7fffffff;
        // one lock per folder and slot in this JVM, whichever instance asks: a JVM may hold a region once
        ReentrantLock mine = LOCKS.computeIfAbsent(folder + "#" + slot, k -> new ReentrantLock());
        mine.lock();
        try {
            FileLock held = channel.lock(slot, 1, false);
            return () -> {
                try {
                    held.release();
                } finally {
                    mine.unlock();
                }
            };
        } catch (IOException | RuntimeException e) {
            mine.unlock();
            throw e;
        }
    }

    /** The lock file's one channel in this JVM (several instances on one folder share it; it is never closed). */
    private FileChannel lockFile() throws IOException {
        synchronized (CHANNELS) {
            FileChannel ch = CHANNELS.get(folder);
            if (ch == null || !ch.isOpen()) {
                Files.createDirectories(folder);
                ch = FileChannel.open(folder.resolve(LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                CHANNELS.put(folder, ch);
            }
            return ch;
        }
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
        entry.targets().forEach((id, d) -> {
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("version", d.version());
            t.put("fingerprint", d.fingerprint());
            if (d.address() != null) t.put("address", d.address());
            targets.put(id, t);
        });
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("secret", secretId);
        if (entry.vault() != null) doc.put("vault", entry.vault());
        doc.put("targets", targets);
        if (entry.settled() != null) doc.put("settled", entry.settled());
        return JSON.writeValueAsString(doc);
    }

    private static Entry decode(JsonNode doc) {
        Map<String, Delivery> targets = new TreeMap<>();
        for (Map.Entry<String, JsonNode> t : doc.path("targets").properties()) {
            targets.put(t.getKey(), new Delivery(t.getValue().path("version").asInt(0),
                    t.getValue().path("fingerprint").asString(""), t.getValue().path("address").asString(null)));
        }
        return new Entry(targets, doc.path("settled").asString(null), doc.path("vault").asString(null));
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
