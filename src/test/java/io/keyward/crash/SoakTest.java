package io.keyward.crash;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyward.cli.Cli;
import io.keyward.testing.FaultProxy;
import io.keyward.testing.KeywardProcess;
import io.keyward.testing.Leaks;
import io.keyward.testing.OutsideConsumer;
import io.keyward.testing.TestDirs;
import io.keyward.testing.TestVault;
import io.keyward.testing.VaultExtension;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import tools.jackson.databind.JsonNode;

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
    private static final List<String> IDS = List.of("api-raw", "api-json", "api-env", "api-tpl", "pw-props", "pw-tpl", "cmd-raw");

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
             OutsideConsumer app = OutsideConsumer.start(issuer, consumed(files), 5, logs)) {
            // An earlier life: the same secrets and files, another Vault (state path and secret paths), one state folder.
            Path earlier = config(work, logs, vault.address().toString(), run + "-earlier", policy(work, files, run + "/earlier"));
            for (int i = 0; i < 2; i++) {
                for (String id : IDS) cli(env, "rotate", id, "--now", "-c", earlier.toString());
            }
            String state = run + "-now";
            Path config = config(work, logs, proxy.address().toString(), state, policy(work, files, run + "/now"));
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
                awaitSettled(vault, state, run + "/now", files, service);
                assertThat(service.stop()).as("the service stops cleanly").isZero();
            }
            trackKeys(issuer);
            OutsideConsumer.Figures seen = app.stop();
            List<String> off = offLive(vault, state, run + "/now", files);
            int versions = 0;
            for (String id : IDS) versions += live(vault, run + "/now/" + id).path("metadata").path("version").asInt();
            String figures = String.format("soak: kills=%d reads=%d revoked_reads=%d episodes=%d unknown_reads=%d versions=%d"
                    + " vault_outage_ms=%d files_off_live=%d seconds=%d seed=%d", kills, seen.reads(), seen.revokedReads(),
                    seen.episodes(), seen.unknownReads(), versions, outageMs, off.size(), seconds(t0), seed);
            System.out.println(figures);
            Files.writeString(logs.resolve("summary.txt"), figures + "\n" + seen + "\n" + String.join("\n", off) + "\n");
            assertThat(kills).isGreaterThanOrEqualTo(MIN_KILLS);
            assertThat(seen.reads()).as(figures).isGreaterThanOrEqualTo(MIN_READS);
            assertThat(versions).as("rotations happened: " + figures).isGreaterThanOrEqualTo(2 * IDS.size());
            assertThat(seen.revokedReads()).as("reads of a revoked key: " + seen).isZero();
            assertThat(off).as("files not on Vault's live value at the end").isEmpty();
        }
    }

    /** Waits (at most 90 s) until no rotation is in flight and every file holds the live value. */
    private static void awaitSettled(TestVault vault, String state, String paths, Path files, KeywardProcess service)
            throws Exception {
        long until = System.nanoTime() + 90_000_000_000L;
        while (System.nanoTime() < until) {
            if (offLive(vault, state, paths, files).isEmpty() && IDS.stream().noneMatch(id -> inFlight(vault, state, id))) return;
            Thread.sleep(200);
        }
        System.out.println("soak: not settled within 90 s; log: " + service.tail());
    }

    private static boolean inFlight(TestVault vault, String state, String id) {
        String phase = vault.admin("GET", "secret/data/" + state + "/journal/" + id, null).path("data").path("data")
                .path("phase").asString();
        return !phase.equals("retired") && !phase.equals("rolled_back");
    }

    /** The files that do not hold the live value of their secret. */
    private static List<String> offLive(TestVault vault, String state, String paths, Path files) throws IOException {
        List<String> off = new ArrayList<>();
        for (OutsideConsumer.File f : consumed(files)) {
            String id = f.path().getFileName().toString().replaceFirst("\\..*", "");
            String value = live(vault, paths + "/" + id).path("data").path(f.field()).asString();
            String text = Files.exists(f.path()) ? Files.readString(f.path()) : "";
            if (value.isEmpty() || !text.contains(value)) off.add(f.path().getFileName() + " is not on the live value");
        }
        return off;
    }

    private static JsonNode live(TestVault vault, String path) {
        return vault.admin("GET", "secret/data/" + path, null).path("data");
    }

    private static List<OutsideConsumer.File> consumed(Path files) {
        return List.of(new OutsideConsumer.File(files.resolve("api-raw.key"), "raw", "api_key", null),
                new OutsideConsumer.File(files.resolve("api-json.json"), "json", "api_key", null),
                new OutsideConsumer.File(files.resolve("api-env.env"), "env", "api_key", null),
                new OutsideConsumer.File(files.resolve("api-tpl.conf"), "template", "api_key", TEMPLATE_API),
                new OutsideConsumer.File(files.resolve("pw-props.properties"), "properties", "password", null),
                new OutsideConsumer.File(files.resolve("pw-tpl.conf"), "template", "password", TEMPLATE_PW),
                new OutsideConsumer.File(files.resolve("cmd-raw.key"), "raw", "api_key", null));
    }

    private static final String TEMPLATE_API = "[client]\nkey = {{api_key}}\nversion = {{version}}\n";
    private static final String TEMPLATE_PW = "password: {{password}}\n";

    private static Path policy(Path work, Path files, String paths) throws IOException {
        String issuer = TestDirs.target().getParent().resolve("src/test/resources/issuer.sh").toString();
        String issued = "    generator: { type: issuer, issuer: it }\n    grace: 8s\n";
        String random = "    generator: { type: random, length: 24 }\n    issuer: it\n    grace: 3s\n";
        String command = "    generator: { type: command, command: [bash, -c, \"head -c 24 /dev/urandom | base64 | tr -dc A-Za-z0-9\"] }\n"
                + "    issuer: it\n    grace: 3s\n";
        StringBuilder p = new StringBuilder("defaults: { watch: 2s, attempts: 3, backoff: { initial: 200ms, max: 1s } }\n"
                + "issuers:\n  it: { type: command, issue: [bash, " + issuer + ", issue], accept: [bash, " + issuer + ", accept],"
                + " revoke: [bash, " + issuer + ", revoke] }\nsecrets:\n");
        p.append(secret("api-raw", paths, "api_key", issued, "{ id: f, type: file, path: " + files.resolve("api-raw.key") + " }"));
        p.append(secret("api-json", paths, "api_key", issued, "{ id: f, type: file, format: json, path: "
                + files.resolve("api-json.json") + " }"));
        p.append(secret("api-env", paths, "api_key", issued, "{ id: f, type: file, format: env, path: "
                + files.resolve("api-env.env") + " }"));
        p.append(secret("api-tpl", paths, "api_key", issued, "{ id: f, type: file, format: template, template: "
                + quoted(TEMPLATE_API) + ", path: " + files.resolve("api-tpl.conf") + " }"));
        p.append(secret("pw-props", paths, "password", random, "{ id: f, type: file, format: properties, path: "
                + files.resolve("pw-props.properties") + " }"));
        p.append(secret("pw-tpl", paths, "password", random, "{ id: f, type: file, format: template, template: "
                + quoted(TEMPLATE_PW) + ", path: " + files.resolve("pw-tpl.conf") + " }"));
        p.append(secret("cmd-raw", paths, "api_key", command, "{ id: f, type: file, path: " + files.resolve("cmd-raw.key") + " }"));
        return Files.writeString(work.resolve("policy-" + paths.replace('/', '-') + ".yaml"), p.toString());
    }

    private static String secret(String id, String paths, String field, String generator, String target) {
        return "  - id: " + id + "\n    path: " + paths + "/" + id + "\n    fields: [" + field + "]\n" + generator
                + "    schedule: { every: 1m }\n    targets:\n      - " + target + "\n";
    }

    private static String quoted(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\n", "\\n").replace("\"", "\\\"") + "\"";
    }

    private static Path config(Path work, Path logs, String address, String state, Path policy) throws IOException {
        return Files.writeString(work.resolve("keyward-" + state + ".yaml"), String.join("\n",
                "agent: { id: soak-host }",
                "vault: { address: \"" + address + "\", timeouts: { connect: 1s, request: 5s } }",
                "policy: " + policy,
                "state: { mount: secret, path: " + state + ", dir: " + work.resolve("state") + " }",
                "rotation: { lease: 5s }",
                "metrics: { listen: off }",
                "audit: { file: " + logs.resolve("audit.jsonl") + ", hmac_key_file: " + work.resolve("hmac.key") + " }",
                ""));
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

    private static void trackKeys(Path issuer) throws IOException {
        for (String sub : List.of("valid", "revoked")) {
            Path d = issuer.resolve(sub);
            if (!Files.isDirectory(d)) continue;
            try (Stream<Path> s = Files.list(d)) {
                s.forEach(p -> Leaks.track(p.getFileName().toString()));
            }
        }
    }

    private static Path jar() {
        Path jar = TestDirs.target().resolve("keyward.jar");
        if (!Files.isRegularFile(jar)) throw new AssertionError("no " + jar + ": run `mvn package` first");
        return jar;
    }
}
