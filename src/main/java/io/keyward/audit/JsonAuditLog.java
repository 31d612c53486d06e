package io.keyward.audit;

import io.keyward.rotation.AuditEvent;
import io.keyward.rotation.AuditLog;
import io.keyward.rotation.AuditUnavailableException;
import io.keyward.target.FileErrors;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.json.JsonMapper;

/**
 * Writes audit events as JSON lines into a file of their own, apart from the application log.
 * Fields: time, event, agent, path, version, outcome, duration_ms, fingerprint, the event's
 * attributes, then {@code seq} and {@code prev_hash}: the line number in the chain and the
 * SHA-256 of the previous line (the bytes without the newline). The chain continues across
 * restarts and rolled files (FILE.YYYY-MM-DD.N, at midnight UTC or at the size limit), so
 * {@link AuditChain} finds a line that was changed, removed or reordered.
 *
 * <p>Fail-closed: a line the file cannot take (disk full, read-only, permission) is held in memory
 * and written, in order and before anything newer, as soon as the file takes lines again, after
 * an {@code audit.resumed} line that says for how long it did not; a partly written line is cut
 * off again. While lines are held, {@link #announce} refuses: the step it announces does not run.
 */
public final class JsonAuditLog implements AuditLog, AutoCloseable {

    private static final org.slf4j.Logger LOG = LoggerFactory.getLogger(JsonAuditLog.class);
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Pattern ROLLED = Pattern.compile("\\.(\\d{4}-\\d{2}-\\d{2})\\.(\\d+)$");
    /** Lines held while the file takes none; beyond this the oldest are dropped and the gap is written down. */
    static final int HOLD_AT_MOST = 100_000;

    /** When the active file is rolled, and how many days of rolled files are kept. */
    public record Rolling(long maxBytes, int keepDays) {
        public static final Rolling DEFAULT = new Rolling(100L * 1024 * 1024, 90);
    }

    /** An event waiting to be written, with the time it happened. */
    private record Held(AuditEvent event, Instant at) {}

    private final String agentId;
    private final Clock clock;
    private final Path file;
    private final Rolling rolling;
    private final Deque<Held> held = new ArrayDeque<>();
    /** A stream, not a FileChannel: an interrupted thread must not close the audit file for everyone. */
    private FileOutputStream out;
    private long size;
    private LocalDate day;
    private long seq;
    private String prevHash;
    private long failures;
    private long dropped;
    private String problem;
    private Instant unwritableSince;

    private JsonAuditLog(String agentId, Clock clock, Path file, Rolling rolling, AuditChain.Link last) throws IOException {
        this.agentId = agentId;
        this.clock = clock;
        this.file = file;
        this.rolling = rolling;
        this.seq = last.seq();
        this.prevHash = last.hash();
        openActive();
        this.day = size == 0 ? today() : LocalDate.ofInstant(last.time().orElse(clock.instant()), ZoneOffset.UTC);
        // Read without the lock, another writer may have added a line meanwhile: the first write reads the last line again.
        closeActive();
    }

    /** Opens (creating folders as needed) an audit file for appending, rolled by the default sizes. */
    public static JsonAuditLog open(Path file, String agentId, Clock clock) throws IOException {
        return open(file, agentId, clock, Rolling.DEFAULT);
    }

    /** Opens an audit file for appending; it rolls to FILE.DATE.N at midnight (UTC) or at {@code rolling.maxBytes}. */
    public static JsonAuditLog open(Path file, String agentId, Clock clock, Rolling rolling) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        if (Files.exists(file) && !Files.isWritable(file)) {
            throw new IOException("audit file " + file + " is not writable");
        }
        return new JsonAuditLog(agentId, clock, file, rolling, AuditChain.lastLink(file));
    }

    public Path file() {
        return file;
    }

    /** How many times the file refused a line (the line was held and written later, or dropped once too many were held). */
    public synchronized long failures() {
        return failures;
    }

    @Override
    public synchronized void record(AuditEvent event) {
        hold(new Held(event, clock.instant()));
        try {
            flush();
        } catch (IOException e) {
            unwritable(e);
        }
    }

    @Override
    public synchronized void announce(AuditEvent event) throws AuditUnavailableException {
        Held line = new Held(event, clock.instant());
        try {
            flush();
            held.addLast(line);
            flush();
        } catch (IOException e) {
            held.remove(line); // the step does not run, so its line must not appear later either
            unwritable(e);
            throw new AuditUnavailableException(blockedText());
        }
    }

    @Override
    public synchronized Optional<String> blocked() {
        try {
            flush();
            return Optional.empty();
        } catch (IOException e) {
            unwritable(e);
            return Optional.of(blockedText());
        }
    }

    private String blockedText() {
        return "the audit file " + file + " cannot be written (" + problem + ") since " + unwritableSince
                + "; steps wait until it can";
    }

    private void hold(Held line) {
        held.addLast(line);
        if (held.size() > HOLD_AT_MOST) {
            held.removeFirst();
            dropped++;
        }
    }

    private void unwritable(IOException e) {
        String why = FileErrors.cause(e);
        if (problem == null) {
            unwritableSince = clock.instant();
            LOG.error("the audit file {} cannot be written: {}; steps wait until it can", file, why);
        }
        if (!why.equals(problem)) problem = why;
        failures++;
    }

    /** Writes every held line, oldest first; after an outage, a line saying so comes first. */
    private void flush() throws IOException {
        if (held.isEmpty()) return;
        if (problem != null) {
            AuditEvent resumed = AuditEvent.of("audit.resumed").outcome(AuditEvent.Outcome.OK)
                    .attribute("unwritable_since", unwritableSince).attribute("cause", problem)
                    .attribute("held", held.size()).attribute("dropped", dropped > 0 ? dropped : null).build();
            write(resumed, clock.instant());
            LOG.info("the audit file {} takes lines again; writing {} held", file, held.size());
            problem = null;
            unwritableSince = null;
            dropped = 0;
        }
        while (!held.isEmpty()) {
            Held h = held.peekFirst();
            write(h.event(), h.at());
            held.removeFirst();
        }
    }

    /**
     * Another process may append to the same file (a {@code keyward submit} beside the running
     * service): each line is written holding a lock, and if the file changed since
     * this log's last line, the chain goes on from the line now last. The lock is .FILE.lock. The thread's interrupt is
     * held back meanwhile, so that it cannot close the lock for everyone.
     */
    private void write(AuditEvent event, Instant at) throws IOException {
        boolean interrupted = Thread.interrupted();
        try {
            synchronized (monitor(file)) {
                try (java.nio.channels.FileLock ignored = lockChannel().lock()) {
                    catchUp();
                    append(event, at);
                }
            }
        } finally {
            if (interrupted) Thread.currentThread().interrupt();
        }
    }

    /** One monitor per file in this JVM: a FileLock is per process, two logs of one file here must take turns. */
    private static final java.util.concurrent.ConcurrentMap<Path, Object> MONITORS = new java.util.concurrent.ConcurrentHashMap<>();

    private static Object monitor(Path file) {
        return MONITORS.computeIfAbsent(file.toAbsolutePath().normalize(), k -> new Object());
    }

    private java.nio.channels.FileChannel lock;

    private java.nio.channels.FileChannel lockChannel() throws IOException {
        if (lock == null || !lock.isOpen()) {
            Path at = file.resolveSibling("." + file.getFileName() + ".lock"); // not FILE.*: that is a rolled file
            lock = java.nio.channels.FileChannel.open(at, java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.WRITE);
        }
        return lock;
    }

    /** If another writer added lines (or rolled the file) since this log's last line, goes on from the last one. */
    private void catchUp() throws IOException {
        long onDisk = Files.exists(file) ? Files.size(file) : 0;
        if (out != null && onDisk == size) return;
        closeActive();
        AuditChain.Link last = AuditChain.lastLink(file);
        seq = last.seq();
        prevHash = last.hash();
        openActive();
    }

    private void append(AuditEvent event, Instant at) throws IOException {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("time", DateTimeFormatter.ISO_INSTANT.format(at));
        line.put("event", event.event());
        line.put("agent", agentId);
        if (event.path() != null) line.put("path", event.path());
        if (event.version() != null) line.put("version", event.version());
        line.put("outcome", event.outcome().word());
        if (event.duration() != null) line.put("duration_ms", event.duration().toMillis());
        if (event.fingerprint() != null) line.put("fingerprint", event.fingerprint());
        event.attributes().forEach((k, v) -> {
            if (!k.equals("seq") && !k.equals("prev_hash")) line.putIfAbsent(k, v);
        });
        line.put("seq", seq + 1);
        line.put("prev_hash", prevHash);
        String text = JSON.writeValueAsString(line);
        byte[] bytes = (text + "\n").getBytes(StandardCharsets.UTF_8);
        rollIfDue(bytes.length);
        long before = size;
        try {
            out.write(bytes);
        } catch (IOException e) {
            cutBack(before);
            throw e;
        }
        size = before + bytes.length;
        seq++;
        prevHash = AuditChain.hash(text);
    }

    /**
     * Removes a partly written line, so that the chain goes on from the last whole one; the file
     * is opened again at the next write (an operator may have moved it to make room).
     */
    private void cutBack(long to) {
        try {
            if (out != null && out.getChannel().size() > to) out.getChannel().truncate(to);
        } catch (IOException e) {
            // the next open finds the size as it is; a partial line would be reported by verify
        }
        closeActive();
    }

    private void rollIfDue(int next) throws IOException {
        LocalDate now = today();
        if (size == 0 || (size + next <= rolling.maxBytes() && now.equals(day))) {
            day = now;
            return;
        }
        closeActive();
        Path to = nextRolled(day);
        Files.move(file, to, StandardCopyOption.ATOMIC_MOVE);
        openActive();
        day = now;
        prune(now);
    }

    private Path nextRolled(LocalDate of) throws IOException {
        int n = 0;
        for (Path p : AuditChain.rolledFiles(file)) {
            Matcher m = ROLLED.matcher(p.getFileName().toString());
            if (m.find() && m.group(1).equals(of.toString())) n = Math.max(n, Integer.parseInt(m.group(2)) + 1);
        }
        return file.resolveSibling(file.getFileName() + "." + of + "." + n);
    }

    /** Deletes rolled files older than the days kept. */
    private void prune(LocalDate now) {
        try {
            for (Path p : AuditChain.rolledFiles(file)) {
                Matcher m = ROLLED.matcher(p.getFileName().toString());
                if (m.find() && LocalDate.parse(m.group(1)).isBefore(now.minusDays(rolling.keepDays()))) {
                    Files.deleteIfExists(p);
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("could not remove old audit files beside {}: {}", file, e.toString());
        }
    }

    private void openActive() throws IOException {
        if (!Files.exists(file)) {
            try {
                Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r-----")));
            } catch (UnsupportedOperationException | java.nio.file.FileAlreadyExistsException e) {
                // not POSIX, or created meanwhile
            }
        }
        out = new FileOutputStream(file.toFile(), true);
        size = Files.size(file);
    }

    private void closeActive() {
        if (out == null) return;
        try {
            out.close();
        } catch (IOException e) {
            // closing anyway
        }
        out = null;
    }

    private LocalDate today() {
        return LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC);
    }

    @Override
    public synchronized void close() {
        if (!held.isEmpty()) {
            try {
                flush();
            } catch (IOException e) {
                LOG.error("{} audit line{} could not be written to {} before stopping: {}", held.size(),
                        held.size() == 1 ? "" : "s", file, FileErrors.cause(e));
            }
        }
        closeActive();
        try {
            if (lock != null) lock.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    @Override
    public String toString() {
        return "JsonAuditLog[" + file + "]";
    }
}
