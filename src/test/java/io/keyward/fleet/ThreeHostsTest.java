package io.keyward.fleet;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyward.cli.Cli;
import io.keyward.docbits.DocBitsSimulator;
import io.keyward.testing.KeywardProcess;
import io.keyward.testing.Leaks;
import io.keyward.testing.TestDirs;
import io.keyward.testing.TestVault;
import io.keyward.testing.VaultExtension;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import tools.jackson.databind.JsonNode;

/**
 * Three hosts, each a `keyward run` process with its own agent id, state folder, target folder
 * and audit file, sharing one OpenBao (and one audit key in it), the DocBits simulator and a
 * file-backed issuer; an application per host reads its files every 50 ms and checks every key
 * against DocBits and the issuer. Hosts are SIGKILLed and restarted at random while rotations
 * run; one stays away past the member timeout; a fourth joins during a grace period; files are
 * deleted and edited by hand. No application ever reads a revoked key, every host receives every
 * version it was up for, each secret rotates once per due time, and all hosts end on the live
 * version.
 */
@ExtendWith(VaultExtension.class)
final class ThreeHostsTest {

    private static final List<String> SECRETS = List.of("docbits-key", "app-key", "late-key");

    private TestVault vault;
    private DocBitsSimulator docbits;
    private String run;
    private Path work;
    private Path logs;
    private Path issuer;
    private final Map<String, KeywardProcess> hosts = new LinkedHashMap<>();
    private final Map<String, List<Instant[]>> uptime = new LinkedHashMap<>();
    private final Random random = new Random(Long.getLong("fleet.seed", System.nanoTime()));
    private int kills;
    private Consumers apps;

    @BeforeEach
    void setUp(TestVault vault) throws Exception {
        this.vault = vault;
        this.run = "f" + UUID.randomUUID().toString().substring(0, 8);
        this.work = TestDirs.credentials("fleet-" + run);
        this.logs = TestDirs.fresh("fleet-" + run);
        this.issuer = Files.createDirectories(work.resolve("issuer"));
        docbits = DocBitsSimulator.start(0, Clock.systemUTC());
        String admin = Leaks.track(docbits.createKey("keyward-admin", Set.of("acme")));
        vault.admin("POST", "secret/data/" + run + "/docbits-admin", "{\"data\":{\"api_key\":\"" + admin + "\"}}");
        for (String s : List.of("docbits", "app", "late")) {
            vault.admin("POST", "secret/metadata/" + run + "/" + s, "{\"max_versions\":100}");
        }
    }

    @AfterEach
    void tearDown() throws Exception {
        if (apps != null) apps.close();
        for (KeywardProcess h : hosts.values()) h.close();
        docbits.close();
    }

    @Test
    void threeHosts_killsRestartsAndChangesByHand_noApplicationEverReadsARevokedKey() throws Exception {
        for (String h : List.of("host1", "host2", "host3")) host(h);
        for (String h : hosts.keySet()) startAndAwait(h);
        List<Consumers.File> files = new ArrayList<>();
        for (String h : List.of("host1", "host2", "host3", "host4")) {
            files.add(new Consumers.File(h, "docbits-key", work.resolve(h).resolve("docbits"), k -> docbits.accepts(k, "acme")));
            files.add(new Consumers.File(h, "app-key", work.resolve(h).resolve("app-key"), this::issued));
            files.add(new Consumers.File(h, "late-key", work.resolve(h).resolve("late-key"), this::issued));
        }
        apps = new Consumers(files);
        awaitConverged(60);

        chaos(Integer.getInteger("fleet.chaos", 60));
        assertThat(apps.violations).as(() -> "applications reading revoked keys during the random kills: " + explain())
                .isEmpty();
        awayPastTheTimeout("host3");
        joinsDuringTheGrace("host4");
        repairsDrift();
        awaitConverged(60);

        for (KeywardProcess h : hosts.values()) assertThat(h.stop()).as(h.name() + " stops cleanly").isZero();
        apps.close();
        String summary = "fleet test: " + hosts.size() + " hosts, " + kills + " kills, " + apps.reads.get()
                + " consumer reads, " + apps.violations.size() + " violations";
        System.out.println(summary);
        Files.writeString(logs.resolve("summary.txt"), summary + "\n" + String.join("\n", apps.violations));
        assertThat(apps.violations).as(this::explain).isEmpty();
        assertThat(apps.reads.get()).isGreaterThan(1000);
        everyHostReceivedEveryVersionItWasUpFor();
        scheduledRotationsOncePerDueTime("docbits-key");
        trackEveryKey();
    }

    /** Random kills and restarts of one host at a time while app-key is rotated every few seconds. */
    private void chaos(int seconds) throws Exception {
        long end = System.currentTimeMillis() + seconds * 1000L;
        List<String> names = List.of("host1", "host2", "host3");
        while (System.currentTimeMillis() < end) {
            String h = names.get(random.nextInt(names.size()));
            cli(names.stream().filter(n -> !n.equals(h)).findFirst().orElseThrow(), "rotate", "app-key", "--now");
            hosts.get(h).kill();
            down(h);
            kills++;
            Thread.sleep(500 + random.nextInt(2500));
            startAndAwait(h);
            Thread.sleep(1000 + random.nextInt(2000));
        }
    }

    /** A host stopped past the member timeout: the others retire without it, saying so; it renders before READY. */
    private void awayPastTheTimeout(String h) throws Exception {
        hosts.get(h).kill();
        down(h);
        kills++;
        apps.pause(h); // its application may now meet a retired key: keyward said it stopped counting
        Thread.sleep(12_000);
        cli("host1", "rotate", "app-key", "--now");
        awaitJournal("app-key", j -> !j.path("phase").asString().equals("delivered")
                && !j.path("phase").asString().equals("promoted"), 30);
        String others = hosts.get("host1").log() + hosts.get("host2").log();
        assertThat(others).contains("member " + h + " (targets app, reload of app-key) has been silent since");
        startAndAwait(h);
        for (String s : SECRETS) {
            assertThat(Files.readString(work.resolve(h).resolve(file(s))).strip().equals(live(s)))
                    .as(h + " holds the live " + s + " when READY").isTrue();
        }
        apps.resume(h);
    }

    /** A host that joins while a rotation waits for its grace: the old key waits for the new host's acknowledgement. */
    private void joinsDuringTheGrace(String h) throws Exception {
        String old = live("late-key");
        cli("host1", "rotate", "late-key", "--now");
        JsonNode delivered = awaitJournal("late-key", j -> j.path("phase").asString().equals("delivered"), 30);
        String rotation = delivered.path("rotation_id").asString();
        host(h);
        startAndAwait(h);
        JsonNode acked = awaitJournal("late-key", j -> j.path("acks").has(h) || !j.path("rotation_id").asString().equals(rotation), 30);
        assertThat(acked.path("rotation_id").asString()).as("still the same rotation").isEqualTo(rotation);
        String acks = acked.path("acks").path(h).asString(); // "target=version@time,..."
        String app = java.util.Arrays.stream(acks.split(",")).filter(x -> x.startsWith("app=")).findFirst().orElseThrow();
        Instant ackAt = Instant.parse(app.substring(app.indexOf('@') + 1));
        assertThat(issued(old)).as("the old key is valid until the new host has acknowledged").isTrue();
        awaitJournal("late-key", j -> j.path("phase").asString().equals("retired"), 60);
        long revokedAt = Long.parseLong(Files.readString(issuer.resolve("revoked").resolve(old)).strip());
        assertThat(revokedAt).as("revoked after the grace counted from the new host's acknowledgement")
                .isGreaterThanOrEqualTo(ackAt.plusSeconds(8).toEpochMilli());
    }

    /** A target file deleted, and one edited, while the daemons run: written again within a watch interval or two. */
    private void repairsDrift() throws Exception {
        Path deleted = work.resolve("host1").resolve("app-key");
        Path edited = work.resolve("host2").resolve("docbits");
        apps.pause("host2");
        long reloads = Files.readAllLines(work.resolve("host1").resolve("reloads")).size();
        Files.delete(deleted);
        Files.writeString(edited, "edited by hand");
        long until = System.currentTimeMillis() + 10_000;
        while (System.currentTimeMillis() < until) {
            if (Files.exists(deleted) && Files.readString(deleted).strip().equals(live("app-key"))
                    && Files.readString(edited).strip().equals(live("docbits-key"))) {
                break;
            }
            Thread.sleep(100);
        }
        assertThat(Files.readString(deleted).strip().equals(live("app-key"))).as("deleted file written again").isTrue();
        assertThat(Files.readString(edited).strip().equals(live("docbits-key"))).as("edited file written again").isTrue();
        long reloaded = System.currentTimeMillis() + 10_000; // reloads run after a random splay of up to 5 s
        while (Files.readAllLines(work.resolve("host1").resolve("reloads")).size() <= reloads
                && System.currentTimeMillis() < reloaded) {
            Thread.sleep(100);
        }
        assertThat(Files.readAllLines(work.resolve("host1").resolve("reloads")).size()).as("its reload ran").isGreaterThan((int) reloads);
        apps.resume("host2");
        assertThat(Files.readString(logs.resolve("host1-audit.jsonl"))).contains("\"event\":\"target.drift\"");
    }

    private void everyHostReceivedEveryVersionItWasUpFor() throws Exception {
        for (String s : List.of("docbits-key", "app-key")) {
            JsonNode versions = vault.admin("GET", "secret/metadata/" + run + "/" + path(s), null).path("data").path("versions");
            List<Instant> created = new ArrayList<>();
            for (int v = 1; versions.has(String.valueOf(v)); v++) {
                created.add(Instant.parse(versions.path(String.valueOf(v)).path("created_time").asString()));
            }
            for (int v = 1; v <= created.size(); v++) {
                Instant from = created.get(v - 1);
                Instant to = v < created.size() ? created.get(v) : Instant.now();
                String value = value(s, v);
                for (String h : List.of("host1", "host2", "host3")) {
                    if (overlap(h, from, to) >= 5_000) {
                        assertThat(apps.seen(h, s).contains(value)).as(h + " received v" + v + " of " + s).isTrue();
                    }
                }
            }
        }
    }

    private void scheduledRotationsOncePerDueTime(String s) {
        JsonNode history = vault.admin("GET", "secret/data/" + run + "/state/journal/" + s, null).path("data").path("data")
                .path("history");
        List<Instant> starts = new ArrayList<>();
        history.forEach(h -> {
            if ("schedule".equals(h.path("trigger").asString())) starts.add(Instant.parse(h.path("started_at").asString()));
        });
        assertThat(starts).as("scheduled rotations of " + s).isNotEmpty();
        starts.sort(null);
        for (int i = 1; i < starts.size(); i++) {
            assertThat(starts.get(i).toEpochMilli() - starts.get(i - 1).toEpochMilli()).as("one rotation per due time")
                    .isGreaterThanOrEqualTo(59_000);
        }
    }

    // ---- hosts -------------------------------------------------------------------------------

    private void host(String h) throws Exception {
        Path dir = Files.createDirectories(work.resolve(h));
        String issuerScript = TestDirs.target().getParent().resolve("src/test/resources/issuer.sh").toString();
        Path policy = Files.writeString(dir.resolve("policy.yaml"), String.join("\n",
                "defaults: { watch: 2s, attempts: 2, backoff: { initial: 100ms, max: 500ms } }",
                "issuers:",
                io.keyward.testing.DocBitsIssuer.apiMode("docbits", docbits.baseUrl(), run + "/docbits-admin, field: api_key"),
                "  files: { type: command, issue: [bash, " + issuerScript + ", issue], revoke: [bash, " + issuerScript + ", revoke] }",
                "secrets:",
                "  - id: docbits-key",
                "    path: " + run + "/docbits",
                "    fields: [api_key]",
                "    generator: { type: issuer, issuer: docbits }",
                "    schedule: { every: 1m }",
                "    grace: 3s",
                "    verify: [{ type: docbits, base_url: \"" + docbits.baseUrl() + "\", orgs: [acme] }]",
                "    targets: [{ id: app, type: file, path: " + dir.resolve("docbits") + " }]",
                "  - id: app-key",
                "    path: " + run + "/app",
                "    fields: [key]",
                "    generator: { type: issuer, issuer: files }",
                "    schedule: { every: 1h }",
                "    grace: 2s",
                "    verify: [{ type: command, command: [bash, " + issuerScript + ", check] }]",
                "    targets:",
                "      - { id: app, type: file, path: " + dir.resolve("app-key") + " }",
                "      - { id: reload, type: exec, command: [bash, -c, 'echo $KEYWARD_VERSION >> " + dir.resolve("reloads") + "'] }",
                "  - id: late-key",
                "    path: " + run + "/late",
                "    fields: [key]",
                "    generator: { type: issuer, issuer: files }",
                "    schedule: { every: 1h }",
                "    grace: 10s",
                "    targets: [{ id: app, type: file, path: " + dir.resolve("late-key") + " }]",
                ""));
        Path config = Files.writeString(dir.resolve("keyward.yaml"), String.join("\n",
                "agent: { id: " + h + " }",
                "vault: { address: \"" + vault.address() + "\" }",
                "state: { mount: secret, path: " + run + "/state, dir: " + dir.resolve("state") + " }",
                "rotation: { lease: 5s }",
                "fleet: { heartbeat: 1s, member_timeout: 10s }",
                "metrics: { listen: off }",
                "policy: " + policy,
                "audit:",
                "  file: " + logs.resolve(h + "-audit.jsonl"),
                "  hmac_key_file: " + dir.resolve("hmac.key"),
                "  hmac_key: { path: " + run + "/audit-key }",
                ""));
        hosts.put(h, new KeywardProcess(h, config, logs, Map.of("VAULT_TOKEN", vault.rootToken(), "ISSUER_STATE",
                issuer.toString(), "KEYWARD_JAVA_OPTS", "")));
        uptime.put(h, new ArrayList<>());
    }

    private void startAndAwait(String h) throws Exception {
        hosts.get(h).start();
        hosts.get(h).awaitReady(60);
        uptime.get(h).add(new Instant[] {Instant.now(), null});
    }

    private void down(String h) {
        List<Instant[]> spans = uptime.get(h);
        spans.get(spans.size() - 1)[1] = Instant.now();
    }

    private long overlap(String h, Instant from, Instant to) {
        long total = 0;
        for (Instant[] up : uptime.get(h)) {
            Instant a = up[0].isAfter(from) ? up[0] : from;
            Instant end = up[1] == null ? Instant.now() : up[1];
            Instant b = end.isBefore(to) ? end : to;
            if (b.isAfter(a)) total += b.toEpochMilli() - a.toEpochMilli();
        }
        return total;
    }

    /** A one-shot command on a host, in this JVM (it registers as that host, and leaves its running service's record). */
    private void cli(String h, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("-c", work.resolve(h).resolve("keyward.yaml").toString()));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream p = new PrintStream(out, true, StandardCharsets.UTF_8);
        Cli.run(all.toArray(String[]::new), p, p, Map.of("VAULT_TOKEN", vault.rootToken(), "ISSUER_STATE", issuer.toString()));
    }

    // ---- what Vault and the issuers hold ---------------------------------------------------------

    private boolean issued(String key) {
        return Files.exists(issuer.resolve("valid").resolve(key));
    }

    private static String path(String secret) {
        return secret.substring(0, secret.indexOf('-'));
    }

    private static String file(String secret) {
        return secret.equals("docbits-key") ? "docbits" : secret;
    }

    private static String field(String secret) {
        return secret.equals("docbits-key") ? "api_key" : "key";
    }

    private String live(String secret) {
        return vault.admin("GET", "secret/data/" + run + "/" + path(secret), null).path("data").path("data")
                .path(field(secret)).asString();
    }

    private String value(String secret, int version) {
        return vault.admin("GET", "secret/data/" + run + "/" + path(secret) + "?version=" + version, null).path("data")
                .path("data").path(field(secret)).asString();
    }

    private JsonNode awaitJournal(String secret, Predicate<JsonNode> done, int seconds) throws Exception {
        long until = System.currentTimeMillis() + seconds * 1000L;
        JsonNode j = null;
        while (System.currentTimeMillis() < until) {
            j = vault.admin("GET", "secret/data/" + run + "/state/journal/" + secret, null).path("data").path("data");
            if (done.test(j)) return j;
            Thread.sleep(200);
        }
        throw new AssertionError("the journal of " + secret + " never got there: phase " + (j == null ? "-" : j.path("phase")));
    }

    /** Every host's files hold the live version of every secret, and nothing is in flight. */
    private void awaitConverged(int seconds) throws Exception {
        long until = System.currentTimeMillis() + seconds * 1000L;
        while (System.currentTimeMillis() < until) {
            if (converged()) return;
            Thread.sleep(250);
        }
        StringBuilder why = new StringBuilder();
        for (String s : SECRETS) {
            why.append(s).append(": journal ").append(vault.admin("GET", "secret/data/" + run + "/state/journal/" + s, null)
                    .path("data").path("data").path("phase").asString()).append("; ");
        }
        throw new AssertionError("the hosts never agreed on the live versions: " + why);
    }

    private boolean converged() throws Exception {
        for (String s : SECRETS) {
            String live = live(s);
            if (live.isEmpty()) return false;
            String phase = vault.admin("GET", "secret/data/" + run + "/state/journal/" + s, null).path("data").path("data")
                    .path("phase").asString();
            if (!phase.isEmpty() && !phase.equals("retired") && !phase.equals("rolled_back")) return false;
            for (String h : hosts.keySet()) {
                Path f = work.resolve(h).resolve(file(s));
                if (!Files.exists(f) || !Files.readString(f).strip().equals(live)) return false;
            }
        }
        return true;
    }

    /** Which version each violating read was, when it was revoked, and when its host was up. */
    private String explain() {
        StringBuilder why = new StringBuilder();
        for (Consumers.Violation v : apps.violating.values()) {
            int version = 0;
            JsonNode versions = vault.admin("GET", "secret/metadata/" + run + "/" + path(v.secret()), null).path("data")
                    .path("versions");
            for (int n = 1; versions.has(String.valueOf(n)); n++) if (value(v.secret(), n).equals(v.key())) version = n;
            String revoked;
            try {
                revoked = Instant.ofEpochMilli(Long.parseLong(Files.readString(issuer.resolve("revoked").resolve(v.key())).strip()))
                        .toString();
            } catch (Exception none) {
                revoked = "not by the issuer";
            }
            StringBuilder up = new StringBuilder();
            for (Instant[] span : uptime.getOrDefault(v.host(), List.of())) up.append(span[0]).append("..").append(span[1]).append(' ');
            why.append("\n  ").append(v.host()).append(" read v").append(version).append(" of ").append(v.secret())
                    .append(" at ").append(Instant.ofEpochMilli(v.at())).append(", revoked at ").append(revoked)
                    .append("; up ").append(up);
        }
        why.append("\n  logs: ").append(logs);
        return why.toString();
    }

    private void trackEveryKey() throws Exception {
        for (String s : List.of("docbits-key", "app-key", "late-key")) {
            JsonNode versions = vault.admin("GET", "secret/metadata/" + run + "/" + path(s), null).path("data").path("versions");
            versions.properties().forEach(e -> Leaks.track(value(s, Integer.parseInt(e.getKey()))));
        }
    }
}
