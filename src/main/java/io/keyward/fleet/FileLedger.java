package io.keyward.fleet;

import io.keyward.rotation.Ledger;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The ledger as one small JSON file per secret in the agent's state folder
 * ({@code <state.dir>/ledger/<id>.json}): versions and fingerprints, never a value. Each file is
 * replaced by a rename, so a reader sees the old entry or the new one, and each read goes to the
 * file (a command run beside the service writes it too). Losing an entry (a new host, a rebuilt
 * folder, an unreadable file) only makes the agent deliver again, never less: the ledger says
 * what was delivered, and every target write is durable before it is recorded.
 */
public final class FileLedger implements Ledger {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final Path folder;

    private FileLedger(Path folder) {
        this.folder = folder;
    }

    /** A ledger in {@code folder}; nothing is created until the first delivery is recorded. */
    public static FileLedger open(Path folder) {
        return new FileLedger(folder.toAbsolutePath());
    }

    public Path folder() {
        return folder;
    }

    @Override
    public Entry get(String secretId) throws IOException {
        return load(file(secretId));
    }

    @Override
    public void put(String secretId, Entry entry) throws IOException {
        Map<String, Object> targets = new TreeMap<>();
        entry.targets().forEach((id, d) -> targets.put(id, Map.of("version", d.version(), "fingerprint", d.fingerprint())));
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("secret", secretId);
        doc.put("targets", targets);
        if (entry.settled() != null) doc.put("settled", entry.settled());
        Files.createDirectories(folder);
        Path file = file(secretId);
        Path tmp = Files.createTempFile(folder, "." + secretId + ".", ".tmp");
        try {
            Files.writeString(tmp, JSON.writeValueAsString(doc));
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private Path file(String secretId) {
        return folder.resolve(secretId + ".json");
    }

    /** An entry from its file; a missing or unreadable one is empty (the agent delivers again). */
    private static Entry load(Path file) throws IOException {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException missing) {
            return Entry.EMPTY;
        }
        try {
            JsonNode doc = JSON.readTree(text);
            Map<String, Delivery> targets = new TreeMap<>();
            for (Map.Entry<String, JsonNode> t : doc.path("targets").properties()) {
                targets.put(t.getKey(), new Delivery(t.getValue().path("version").asInt(0),
                        t.getValue().path("fingerprint").asString("")));
            }
            String settled = doc.path("settled").asString(null);
            return new Entry(targets, settled);
        } catch (JacksonException | IllegalArgumentException | NullPointerException unreadable) {
            return Entry.EMPTY;
        }
    }

    @Override
    public String toString() {
        return "FileLedger[" + folder + "]";
    }
}
