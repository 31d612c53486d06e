package io.keyward.vault;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyward.rotation.SecretData;
import io.keyward.rotation.SecretPath;
import io.keyward.testing.FaultProxy;
import io.keyward.testing.TestVault;
import io.keyward.testing.VaultExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The connections to Vault, counted by a proxy in front of the real OpenBao: never more than
 * {@code vault.max_connections} at once however many threads call, and kept alive between calls.
 */
@ExtendWith(VaultExtension.class)
final class VaultConnectionsTest {

    @Test
    void manyThreads_shareAtMostMaxConnections_keptAlive(TestVault vault) throws Exception {
        List<SecretPath> paths = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            SecretPath p = vault.uniquePath("conn" + i);
            paths.add(p);
        }
        try (FaultProxy proxy = FaultProxy.in(vault.address());
             Connected c = Connected.through(proxy.address(), vault, s -> s.withMaxConnections(3))) {
            for (SecretPath p : paths) c.client.write(p, SecretData.of("k", "v-" + p.path()), OptionalInt.empty());
            ExecutorService pool = Executors.newFixedThreadPool(32);
            try {
                List<Future<Boolean>> reads = new ArrayList<>();
                for (int round = 0; round < 10; round++) {
                    for (SecretPath p : paths) {
                        reads.add(pool.submit(() -> c.client.read(p).orElseThrow().data().string("k")
                                .orElseThrow().equals("v-" + p.path())));
                    }
                }
                for (Future<Boolean> r : reads) assertThat(r.get()).isTrue();
            } finally {
                pool.shutdown();
            }
            assertThat(proxy.peakClients()).isBetween(1, 3);
            assertThat(proxy.accepted()).as("connections opened for 221 calls").isLessThanOrEqualTo(3);
            assertThat(c.client.peakConnections()).isEqualTo(proxy.peakClients());
        }
    }
}
