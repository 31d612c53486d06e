package io.keyward.vault;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The newest state of Vault's storage this process has seen, as the server names it in its
 * {@code X-Vault-Index} answer header, sent back with every request so that a standby that has
 * not caught up with it forwards the request to the active node ({@code X-Vault-Inconsistent:
 * forward-active-node}) instead of answering from an older state: a read never shows keyward less
 * than it has already seen or written. A server that sends no index gets no header.
 *
 * <p>OpenBao's index is base64 of {@code {"cluster": id, "value": raft index}}: of one cluster the
 * higher value wins; an index of another cluster (Vault rebuilt or restored under this address)
 * replaces it, since the old one means nothing there. An index in another form (Vault
 * Enterprise's replication state) is kept as the latest seen, as Vault's own client does.
 */
final class ReadIndex {

    static final String HEADER = "X-Vault-Index";
    static final String INCONSISTENT = "X-Vault-Inconsistent";
    static final String FORWARD = "forward-active-node";
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private String header;
    private String cluster;
    private long value = -1;

    /** The header to send, or null while the server has sent none. */
    synchronized String current() {
        return header;
    }

    /** Takes an answer's {@code X-Vault-Index} (null or blank: none) when it is newer than the one held. */
    synchronized void seen(String answered) {
        if (answered == null || answered.isBlank()) return;
        Parsed p = parse(answered.strip());
        if (p == null || cluster == null || !p.cluster.equals(cluster) || p.value > value) {
            header = answered.strip();
            cluster = p == null ? null : p.cluster;
            value = p == null ? -1 : p.value;
        }
    }

    private record Parsed(String cluster, long value) {}

    private static Parsed parse(String header) {
        try {
            JsonNode n = JSON.readTree(Base64.getDecoder().decode(header.getBytes(StandardCharsets.US_ASCII)));
            String cluster = n.path("cluster").asString("");
            long value = Long.parseLong(n.path("value").asString(""));
            return cluster.isEmpty() ? null : new Parsed(cluster, value);
        } catch (IllegalArgumentException | JacksonException notOpenBaos) {
            return null;
        }
    }
}
