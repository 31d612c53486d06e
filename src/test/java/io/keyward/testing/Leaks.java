package io.keyward.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;

/**
 * Every secret value the suite creates is registered here (stored base64-encoded in
 * target/leak-registry/, outside what is scanned). After the run, {@code LeakScanTest} looks for
 * each of them, raw and base64, in every log and audit file the suite wrote.
 */
public final class Leaks {

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

    private Leaks() {}

    /** The registry file: one base64 line per tracked value. */
    public static Path registry() {
        return TestDirs.target().resolve("leak-registry").resolve("secrets.b64");
    }

    /** A fresh random secret value, already tracked. */
    public static String secret(String prefix) {
        StringBuilder b = new StringBuilder(prefix).append('-');
        for (int i = 0; i < 24; i++) b.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
        return track(b.toString());
    }

    /** Registers a value the suite must never see in a log or audit file. */
    public static synchronized String track(String value) {
        try {
            Files.createDirectories(registry().getParent());
            Files.writeString(registry(), Base64.getEncoder().encodeToString(value.getBytes(StandardCharsets.UTF_8)) + "\n",
                    StandardCharsets.US_ASCII, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            return value;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every tracked value. */
    public static List<String> tracked() throws IOException {
        if (!Files.exists(registry())) return List.of();
        return Files.readAllLines(registry(), StandardCharsets.US_ASCII).stream()
                .filter(l -> !l.isBlank())
                .map(l -> new String(Base64.getDecoder().decode(l), StandardCharsets.UTF_8))
                .distinct().toList();
    }
}
