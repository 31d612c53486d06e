package io.keyward.vault;

import io.keyward.audit.JsonAuditLog;
import io.keyward.rotation.Fingerprinter;
import io.keyward.rotation.Retrier;
import io.keyward.rotation.Sleeper;
import io.keyward.testing.TestDirs;
import io.keyward.testing.TestVault;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** A {@link VaultClient} connected to the test Vault, with its audit file under target/test-logs. */
final class Connected implements AutoCloseable {

    static final byte[] KEY = "test-fingerprint-key-0123456789".getBytes(StandardCharsets.UTF_8);
    static final Fingerprinter FINGERPRINTS = new Fingerprinter(KEY);
    private static final JsonMapper JSON = JsonMapper.builder().build();

    final VaultClient client;
    final JsonAuditLog audit;
    final Path dir;

    private Connected(VaultClient client, JsonAuditLog audit, Path dir) {
        this.client = client;
        this.audit = audit;
        this.dir = dir;
    }

    static Connected root(TestVault vault) throws IOException {
        return with(vault, new VaultAuth.Token(Optional.of(vault.rootToken()), Optional.empty()), s -> s);
    }

    static Connected with(TestVault vault, VaultAuth auth, java.util.function.UnaryOperator<VaultSettings> tune)
            throws IOException {
        return at(vault.address(), auth, tune);
    }

    /** Logged in by {@code auth} at an address of the test's own. */
    static Connected with(java.net.URI address, VaultAuth auth, java.util.function.UnaryOperator<VaultSettings> tune)
            throws IOException {
        return at(address, auth, tune);
    }

    /** Logged in with the root token through another address (a fault proxy in front of the test Vault). */
    static Connected through(java.net.URI address, TestVault vault, java.util.function.UnaryOperator<VaultSettings> tune)
            throws IOException {
        return at(address, new VaultAuth.Token(Optional.of(vault.rootToken()), Optional.empty()), tune);
    }

    private static Connected at(java.net.URI address, VaultAuth auth, java.util.function.UnaryOperator<VaultSettings> tune)
            throws IOException {
        Path dir = TestDirs.fresh("vault");
        JsonAuditLog audit = JsonAuditLog.open(dir.resolve("audit.jsonl"), "test-agent", Clock.systemUTC());
        VaultSettings settings = tune.apply(VaultSettings.of(address, auth)
                .withRetry(new Retrier.Backoff(3, Duration.ofMillis(50), Duration.ofMillis(200))));
        try {
            return new Connected(VaultClient.connect(settings, audit, FINGERPRINTS, Clock.systemUTC(), Sleeper.system()),
                    audit, dir);
        } catch (VaultAccessException e) {
            audit.close();
            throw e;
        }
    }

    /** The audit lines written so far, parsed. */
    List<JsonNode> auditLines() throws IOException {
        return Files.readAllLines(audit.file(), StandardCharsets.UTF_8).stream()
                .filter(l -> !l.isBlank()).map(JSON::readTree).toList();
    }

    String auditText() throws IOException {
        return Files.readString(audit.file(), StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        client.close();
        audit.close();
    }
}
