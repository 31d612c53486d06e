package io.keyward.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keyward.rotation.SecretData;
import io.keyward.rotation.SecretPath;
import io.keyward.testing.LocalBao;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/** {@code VAULT_ADDR=unix:///path}: Vault through a Unix domain socket (a local Vault Proxy or Agent listener). */
final class VaultUnixSocketTest {

    @Test
    void throughAUnixSocket_writesReadsAndKeepsItsConnection() throws Exception {
        Path socket = Files.createTempDirectory("kw-unix").resolve("bao.sock"); // short: a socket path has 107 bytes
        try (LocalBao bao = LocalBao.devWithSocket(socket);
             Connected c = Connected.through(URI.create("unix://" + socket), bao.vault(), s -> s)) {
            SecretPath path = bao.vault().uniquePath("over-unix");
            for (int v = 1; v <= 5; v++) {
                c.client.write(path, SecretData.of(Map.of("n", Integer.toString(v))), OptionalInt.of(v - 1));
                assertThat(c.client.read(path).orElseThrow().version()).isEqualTo(v);
            }
            assertThat(c.client.peakConnections()).as("one connection, kept alive").isEqualTo(1);
        }
    }

    @Test
    void aSocketNobodyListensOn_isVaultUnreachable() throws Exception {
        Path socket = Files.createTempDirectory("kw-unix").resolve("nobody.sock");
        VaultAuth token = new VaultAuth.Token(Optional.of("no-token-needed"), Optional.empty());
        assertThatThrownBy(() -> Connected.with(URI.create("unix://" + socket), token, s -> s))
                .isInstanceOf(VaultAccessException.class)
                .hasMessageContaining("unix://" + socket)
                .hasMessageContaining("connection refused")
                .matches(e -> ((VaultAccessException) e).retryable(), "retryable");
    }
}
