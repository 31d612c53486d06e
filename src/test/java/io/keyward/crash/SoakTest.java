package io.keyward.crash;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyward.cli.Cli;
import io.keyward.testing.FaultProxy;
import io.keyward.testing.KeywardProcess;
import io.keyward.testing.OutsideConsumer;
import io.keyward.testing.TestDirs;
import io.keyward.testing.TestVault;
import io.keyward.testing.VaultExtension;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The black-box soak, as a new user would try keyward: {@code keyward run} from the built jar (the
 * packaged launcher) on one host, seven secrets due every minute (issuer-made API keys with a
 * grace of 8s, random passwords and command-made keys the issuer accepts) delivered to files in
 * every format, a watch of 2s, SIGKILLed at random moments and started again, one Vault outage
 * through a fault proxy, and an application outside keyward (its own process) reading every file
 * every 5 ms and checking each key against the issuer's revocations. Its state folder first serves
 * an earlier life (the same secrets rotated in another Vault, as the default state folder keeps
 * them across installations). Runs after {@code package}; {@code -Dsoak.seed=S} replays the kills.
 */
@ExtendWith(VaultExtension.class)
final class SoakTest {

    private static final Path LAUNCHER = Path.of("packaging/keyward").toAbsolutePath();
    private static final int MIN_KILLS = 15;
    private static final long MIN_READS = 20_000;

    @Test
    void killedAtRandom_throughAVaultOutage_noApplicationReadsARevokedKey(TestVault vault) throws Exception {
        String run = vault.uniqueName("soak");
        Path work = TestDirs.credentials(run);
        Path logs = TestDirs.fresh(run);
        Path issuer = Files.createDirectories(work.resolve("issuer"));
        Path files = Files.createDirectories(work.resolve("files"));
        long seed = Long.getLong("soak.seed", System.nanoTime());
        Random random = new Random(seed);
        Map<String, String> env = Map.of("VAULT_TOKEN", vault.rootToken(), "ISSUER_STATE", issuer.toString(),
                "KEYWARD_JAR", jar().toString(), "JAVA_HOME", System.getProperty("java.home"));

        try (FaultProxy proxy = FaultProxy.in(vault.address());
             OutsideConsumer app = OutsideConsumer.start(issuer, SevenSecrets.consumed(files), 5, logs)) {
            // An earlier life: the same secrets and files, another Vault (state path and secret paths), one state folder.
            Path earlier = SevenSecrets.config(work, logs, "soak-host", vault.address().toString(), run + "-earlier",
                    SevenSecrets.policy(work, files, run + "/earlier"));
            for (int i = 0; i < 2; i++) {
                for (String id : SevenSecrets.IDS) cli(env, "rotate", id, "--now", "-c", earlier.toString());
            }
            String state = run + "-now";
            Path config = SevenSecrets.config(work, logs, "soak-host", proxy.address().toString(), state,
                    SevenSecrets.policy(work, files, run + "/now"));
            int kills = 0;
            long outageMs = 0;
            long t0 = System.nanoTime();
            try (KeywardProcess service = KeywardProcess.launched("soak", LAUNCHER, config, logs, env)) {
                service.start();
                service.awaitReady(120);
                while (kills < MIN_KILLS || seconds(t0) < 75) {
                    if (seconds(t0) > 400) throw new AssertionError("the soak ran past 400 s with " + kills + " kills");
                    Thread.sleep(1500 + random.nextInt(3500));
                    if (kills == 7 && outageMs == 0) { // Vault goes away for a while under the running service
                        long o = System.nanoTime();
                        proxy.mode(FaultProxy.Mode.REFUSE);
                        Thread.sleep(8000);
                        proxy.mode(FaultProxy.Mode.FORWARD);
                        outageMs = (System.nanoTime() - o) / 1_000_000;
                        Thread.sleep(random.nextInt(2000));
                    }
                    service.kill();
                    kills++;
                    service.start();
                    service.awaitReady(120);
                }
                SevenSecrets.awaitSettled(vault, state, run + "/now", files, service);
                assertThat(service.stop()).as("the service stops cleanly").isZero();
            }
            SevenSecrets.trackKeys(issuer);
            OutsideConsumer.Figures seen = app.stop();
            List<String> off = SevenSecrets.offLive(vault, state, run + "/now", files);
            int versions = 0;
            for (String id : SevenSecrets.IDS) {
                versions += SevenSecrets.live(vault, run + "/now/" + id).path("metadata").path("version").asInt();
            }
            String figures = String.format("soak: kills=%d reads=%d revoked_reads=%d episodes=%d unknown_reads=%d versions=%d"
                    + " vault_outage_ms=%d files_off_live=%d seconds=%d seed=%d", kills, seen.reads(), seen.revokedReads(),
                    seen.episodes(), seen.unknownReads(), versions, outageMs, off.size(), seconds(t0), seed);
            System.out.println(figures);
            Files.writeString(logs.resolve("summary.txt"), figures + "\n" + seen + "\n" + String.join("\n", off) + "\n");
            assertThat(kills).isGreaterThanOrEqualTo(MIN_KILLS);
            assertThat(seen.reads()).as(figures).isGreaterThanOrEqualTo(MIN_READS);
            assertThat(versions).as("rotations happened: " + figures).isGreaterThanOrEqualTo(2 * SevenSecrets.IDS.size());
            assertThat(seen.revokedReads()).as("reads of a revoked key: " + seen).isZero();
            assertThat(off).as("files not on Vault's live value at the end").isEmpty();
        }
    }

    private static void cli(Map<String, String> env, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream p = new PrintStream(out, true, StandardCharsets.UTF_8);
        int code = Cli.run(args, p, p, env);
        assertThat(code).as("keyward " + String.join(" ", args) + ": " + out.toString(StandardCharsets.UTF_8)).isZero();
    }

    private static long seconds(long t0) {
        return (System.nanoTime() - t0) / 1_000_000_000L;
    }

    private static Path jar() {
        Path jar = TestDirs.target().resolve("keyward.jar");
        if (!Files.isRegularFile(jar)) throw new AssertionError("no " + jar + ": run `mvn package` first");
        return jar;
    }
}
