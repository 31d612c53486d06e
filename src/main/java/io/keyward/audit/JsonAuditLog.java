package io.keyward.audit;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.rolling.RollingFileAppender;
import ch.qos.logback.core.rolling.SizeAndTimeBasedRollingPolicy;
import ch.qos.logback.core.util.FileSize;
import io.keyward.rotation.AuditEvent;
import io.keyward.rotation.AuditLog;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.json.JsonMapper;

/**
 * Writes audit events as JSON lines through a logback logger of its own ("keyward.audit") into
 * its own file, apart from the application log. Fields: time, event, agent, path, version,
 * outcome, duration_ms, fingerprint, the event's attributes, then {@code seq} and
 * {@code prev_hash}: the line number in the chain and the SHA-256 of the previous line (the
 * bytes without the newline). The chain continues across restarts (it is picked up from the
 * last line written) and across rolled files, so {@link AuditChain} finds a line that was
 * changed, removed or reordered. Never throws.
 */
public final class JsonAuditLog implements AuditLog, AutoCloseable {

    private static final org.slf4j.Logger LOG = LoggerFactory.getLogger(JsonAuditLog.class);
    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** When the active file is rolled, and how many days of rolled files are kept. */
    public record Rolling(long maxBytes, int keepDays) {
        public static final Rolling DEFAULT = new Rolling(100L * 1024 * 1024, 90);
    }

    private final LoggerContext context;
    private final Logger logger;
    private final String agentId;
    private final Clock clock;
    private final Path file;
    private final AtomicLong failures = new AtomicLong();
    private long seq;
    private String prevHash;

    private JsonAuditLog(LoggerContext context, Logger logger, String agentId, Clock clock, Path file,
                         AuditChain.Link last) {
        this.context = context;
        this.logger = logger;
        this.agentId = agentId;
        this.clock = clock;
        this.file = file;
        this.seq = last.seq();
        this.prevHash = last.hash();
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
        if (!Files.exists(file)) {
            try {
                Files.createFile(file, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                        java.nio.file.attribute.PosixFilePermissions.fromString("rw-r-----")));
            } catch (UnsupportedOperationException | java.nio.file.FileAlreadyExistsException e) {
                // not POSIX, or created meanwhile: logback creates or appends
            }
        }
        AuditChain.Link last = AuditChain.lastLink(file);
        LoggerContext context = new LoggerContext();
        context.setName("keyward-audit");
        context.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());

        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern("%msg%n");
        encoder.setCharset(StandardCharsets.UTF_8);
        encoder.start();

        RollingFileAppender<ILoggingEvent> appender = new RollingFileAppender<>();
        appender.setContext(context);
        appender.setName("audit-file");
        appender.setFile(file.toString());
        appender.setAppend(true);
        appender.setImmediateFlush(true);
        appender.setEncoder(encoder);
        SizeAndTimeBasedRollingPolicy<ILoggingEvent> policy = new SizeAndTimeBasedRollingPolicy<>();
        policy.setContext(context);
        policy.setParent(appender);
        policy.setFileNamePattern(file + ".%d{yyyy-MM-dd,UTC}.%i");
        policy.setMaxFileSize(new FileSize(rolling.maxBytes()));
        policy.setMaxHistory(rolling.keepDays());
        policy.start();
        appender.setRollingPolicy(policy);
        appender.setTriggeringPolicy(policy);
        appender.start();
        if (!appender.isStarted()) {
            throw new IOException("cannot open audit file " + file);
        }

        Logger logger = context.getLogger("keyward.audit");
        logger.setLevel(Level.INFO);
        logger.setAdditive(false);
        logger.addAppender(appender);
        context.start();
        return new JsonAuditLog(context, logger, agentId, clock, file, last);
    }

    public Path file() {
        return file;
    }

    /** How many events could not be written (they are also reported in the application log). */
    public long failures() {
        return failures.get();
    }

    @Override
    public synchronized void record(AuditEvent event) {
        try {
            Map<String, Object> line = new LinkedHashMap<>();
            line.put("time", DateTimeFormatter.ISO_INSTANT.format(clock.instant()));
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
            logger.info(text);
            seq++;
            prevHash = AuditChain.hash(text);
        } catch (RuntimeException e) {
            failures.incrementAndGet();
            LOG.error("could not write an audit line for {} to {}: {}", event.event(), file, e.toString());
        }
    }

    @Override
    public void close() {
        context.stop();
    }

    @Override
    public String toString() {
        return "JsonAuditLog[" + file + "]";
    }
}
