package io.keyward.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.keyward.rotation.SecretData;
import io.keyward.rotation.SecretPath;
import io.keyward.testing.FaultProxy;
import io.keyward.testing.TestVault;
import io.keyward.testing.VaultExtension;
import java.time.Duration;
import java.util.OptionalInt;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import tools.jackson.databind.JsonNode;

/**
 * What a Vault call says when the network fails it, through a fault proxy in front of the real
 * OpenBao: the cause by name, and whether the request may have been carried out.
 */
@ExtendWith(VaultExtension.class)
final class VaultFaultsTest {

    private TestVault vault;
    private FaultProxy proxy;
    private Connected c;

    @BeforeEach
    void connect(TestVault vault) throws Exception {
        this.vault = vault;
        proxy = FaultProxy.in(vault.address());
        c = Connected.through(proxy.address(), vault, s -> s.withTimeouts(Duration.ofSeconds(1), Duration.ofSeconds(1)));
    }

    @AfterEach
    void close() {
        c.close();
        proxy.close();
    }

    @Test
    void aRefusedConnectionIsNamedAndKnownNotToHaveReachedVault() {
        SecretPath p = vault.uniquePath("refused");
        proxy.mode(FaultProxy.Mode.REFUSE);
        VaultAccessException e = catchThrowableOfType(() -> c.client.write(p, SecretData.of("k", "v"), OptionalInt.empty()),
                VaultAccessException.class);
        assertThat(e.getMessage()).contains("connection refused").contains("/refused at " + proxy.address());
        assertThat(e.outcomeUnknown()).isFalse();
    }

    @Test
    void aResetIsNamedAndLeavesTheOutcomeOpen() throws Exception {
        SecretPath p = vault.uniquePath("reset");
        proxy.mode(FaultProxy.Mode.RESET);
        VaultAccessException e = catchThrowableOfType(() -> c.client.write(p, SecretData.of("k", "v"), OptionalInt.empty()),
                VaultAccessException.class);
        assertThat(e.getMessage()).containsPattern("connection (reset|closed) before Vault answered");
        assertThat(e.getMessage()).doesNotContain("IOException");
    }

    @Test
    void aStallIsNamedWithTheTimeoutAndLeavesTheOutcomeOpen() {
        SecretPath p = vault.uniquePath("stall");
        proxy.mode(FaultProxy.Mode.STALL);
        VaultAccessException e = catchThrowableOfType(() -> c.client.write(p, SecretData.of("k", "v"), OptionalInt.empty()),
                VaultAccessException.class);
        assertThat(e.getMessage()).contains("timed out after 1 s without an answer (vault.timeouts.request)");
        assertThat(e.outcomeUnknown()).isTrue();
    }

    @Test
    void aWriteWhoseAnswerIsLostIsAuditedUnknownAndHasLanded() throws Exception {
        SecretPath p = vault.uniquePath("lost");
        proxy.dropAnswers(r -> r.writes() && r.path().contains("lost"), 1);
        VaultAccessException e = catchThrowableOfType(() -> c.client.write(p, SecretData.of("k", "v"), OptionalInt.empty()),
                VaultAccessException.class);
        assertThat(proxy.answersDropped()).isEqualTo(1);
        assertThat(e.outcomeUnknown()).isTrue();
        assertThat(c.client.read(p)).hasValueSatisfying(v -> assertThat(v.version()).isEqualTo(1));
        JsonNode line = c.auditLines().stream().filter(l -> l.path("event").asString().equals("vault.write")).findFirst()
                .orElseThrow();
        assertThat(line.path("outcome").asString()).isEqualTo("unknown");
        assertThat(line.path("path").asString()).isEqualTo(p.toString());
    }
}
