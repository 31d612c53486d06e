package io.keyward.audit;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.FileAppender;
import io.keyward.rotation.AuditEvent;
import io.keyward.rotation.AuditLog;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import net.logstash.logback.composite.loggingevent.LoggingEventJsonProviders;
import net.logstash.logback.composite.loggingevent.LogstashMarkersJsonProvider;
import net.logstash.logback.encoder.LoggingEventCompositeJsonEncoder;
import net.logstash.logback.marker.Markers;
import org.slf4j.LoggerFactory;

/**
 * Writes audit events as JSON lines through a logback logger of its own ("keyward.audit") into
 * its own file, apart from the application log. Fields: time, event, agent, path, version,
 * outcome, duration_ms, fingerprint, then the event's attributes. Never throws.
 */
public final class JsonAuditLog implements AuditLog, AutoCloseable {

    private static final org.slf4j.Logger LOG = LoggerFactory.getLogger(JsonAuditLog.class);

    private final LoggerContext context;
    private final Logger logger;
    private final String agentId;
    private final Clock clock;
    private final Path file;
    private final AtomicLong failures = new AtomicLong();

    private JsonAuditLog(LoggerContext context, Logger logger, String agentId, Clock clock, Path file) {
        this.context = context;
        this.logger = logger;
        this.agentId = agentId;
        this.clock = clock;
        this.file = file;
    }

    /** Opens (creating folders as needed) an audit file for appending. */
    public static JsonAuditLog open(Path file, String agentId, Clock clock) throws IOException {
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
        LoggerContext context = new LoggerContext();
        context.setName("keyward-audit");
        context.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());

        LoggingEventCompositeJsonEncoder encoder = new LoggingEventCompositeJsonEncoder();
        encoder.setContext(context);
        LoggingEventJsonProviders providers = new LoggingEventJsonProviders();
        providers.addLogstashMarkers(new LogstashMarkersJsonProvider());
        encoder.setProviders(providers);
        encoder.start();

        FileAppender<ILoggingEvent> appender = new FileAppender<>();
        appender.setContext(context);
        appender.setName("audit-file");
        appender.setFile(file.toString());
        appender.setAppend(true);
        appender.setImmediateFlush(true);
        appender.setEncoder(encoder);
        appender.start();
        if (!appender.isStarted()) {
            throw new IOException("cannot open audit file " + file);
        }

        Logger logger = context.getLogger("keyward.audit");
        logger.setLevel(Level.INFO);
        logger.setAdditive(false);
        logger.addAppender(appender);
        context.start();
        return new JsonAuditLog(context, logger, agentId, clock, file);
    }

    public Path file() {
        return file;
    }

    /** How many events could not be written (they are also reported in the application log). */
    public long failures() {
        return failures.get();
    }

    @Override
    public void record(AuditEvent event) {
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
            event.attributes().forEach(line::putIfAbsent);
            logger.info(Markers.appendEntries(line), "");
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
