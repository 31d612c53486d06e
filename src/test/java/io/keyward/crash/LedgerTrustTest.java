package io.keyward.crash;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyward.cli.Cli;
import io.keyward.testing.Leaks;
import io.keyward.testing.LocalBao;
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
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import tools.jackson.databind.JsonNode;

/**
 * A state folder that remembers another Vault, an earlier life of a secret, or another agent:
 * keyward run as its commands are (rotate --now, sync) against a real OpenBao, an outside
 * application (its own process) reading the target files and checking every key against the
 * issuer's revocations. Whatever the ledger holds, every file ends on Vault's live value after each
 * command, and the application never reads a revoked key.
 */
@ExtendWith(VaultExtension.class)
final class LedgerTrustTest {

    private Path work;
    private Path logs;
    private Path issuerState;
    private final List<String> divergences = new ArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        work = TestDirs.credentials("ledger-trust");
        logs = TestDirs.fresh("ledger-trust");
        issuerState = Files.createDirectories(work.resolve("issuer"));
    }

    /** The five commands of the report: three rotations against one Vault, two against a fresh one, one state folder. */
    @Test
    void aStateFolderKept_againstAFreshVault_isNotTakenForItsRecord() throws Exception {
        Host host = host("host-a", "s1", work.resolve("state"), work.resolve("targets-a"));
        try (OutsideConsumer app = host.consumer(); LocalBao first = LocalBao.dev()) {
            host.against(first.vault(), "keyward");
            for (int i = 0; i < 3; i++) host.rotateThenSync();
            try (LocalBao fresh = LocalBao.dev()) {
                host.against(fresh.vault(), "keyward");
                for (int i = 0; i < 2; i++) host.rotateThenSync();
            }
            judge("a fresh Vault", app.stop());
        }
    }

    /** (a) Vault restored from a raft snapshot taken before the last rotation; the state folder kept. */
    @Test
    void aVaultRestoredToAnOlderState_underAKeptStateFolder_getsItsLiveValueDelivered() throws Exception {
        Host host = host("host-a", "s1", work.resolve("state"), work.resolve("targets-a"));
        try (OutsideConsumer app = host.consumer(); LocalBao raft = LocalBao.raft(work.resolve("raft"))) {
            host.against(raft.vault(), "keyward");
            for (int i = 0; i < 2; i++) host.rotateThenSync();
            byte[] snapshot = raft.snapshot();
            host.grace("1h"); // the next rotation delivers and keeps the old key through its grace: the snapshot's live key stays valid
            host.cli("rotate", "s1", "--now");
            host.grace("0s");
            raft.restore(snapshot);
            host.sync();
            for (int i = 0; i < 2; i++) host.rotateThenSync();
            judge("a Vault restored from a snapshot", app.stop());
        }
    }

    /** (b) A secret deleted from Vault (metadata and every version) and made again: its versions start at 1 again. */
    @Test
    void aSecretDeletedAndMadeAgain_isDeliveredAgain_fromItsFirstVersion(TestVault vault) throws Exception {
        Host host = host("host-a", "s1", work.resolve("state"), work.resolve("targets-a"));
        try (OutsideConsumer app = host.consumer()) {
            host.against(vault, vault.uniqueName("state"));
            for (int i = 0; i < 3; i++) host.rotateThenSync();
            vault.admin("DELETE", "secret/metadata/" + host.livePath, null);
            for (int i = 0; i < 3; i++) host.rotateThenSync();
            judge("a secret deleted and made again", app.stop());
        }
    }

    /**
     * (c) Two agents on one host with one state folder (two configurations that leave state.dir at
     * its default) and one fingerprint key, each with a secret s1 of its own (its own state path and
     * secret path) and targets of its own under the same target ids, used by turns.
     */
    @Test
    void twoAgentsSharingAStateFolder_eachDeliverToTheirOwnTargets(TestVault vault) throws Exception {
        Path state = work.resolve("state");
        Host a = host("host-a", "s1", state, work.resolve("targets-a"));
        Host b = host("host-b", "s1", state, work.resolve("targets-b"));
        b.livePath = "trust-b/s1";
        try (OutsideConsumer appA = a.consumer(); OutsideConsumer appB = b.consumer()) {
            a.against(vault, vault.uniqueName("state"));
            b.against(vault, vault.uniqueName("state"));
            for (int i = 0; i < 3; i++) a.rotateThenSync();
            for (int i = 0; i < 3; i++) {
                b.rotateThenSync();
                a.rotateThenSync();
            }
            OutsideConsumer.Figures seenA = appA.stop();
            System.out.println("ledger trust, two agents sharing a state folder, host-a: " + seenA);
            judge("two agents sharing a state folder, host-b", appB.stop());
            assertThat(seenA.revokedReads()).as("host-a's reads of a revoked key: " + seenA).isZero();
        }
    }

    private void judge(String what, OutsideConsumer.Figures seen) {
        System.out.println("ledger trust, " + what + ": " + seen + "; " + divergences.size()
                + " times a file was not on the live value");
        assertThat(seen.reads()).as("the application read its files").isPositive();
        assertThat(divergences).as("files on another value than Vault's live one after a command").isEmpty();
        assertThat(seen.revokedReads()).as("reads of a revoked key: " + seen).isZero();
    }

    private Host host(String agent, String secret, Path stateDir, Path targets) throws IOException {
        return new Host(agent, secret, stateDir, Files.createDirectories(targets));
    }

    /** One agent's configuration and policy: its own id, audit file and targets; the state folder as given. */
    private final class Host {
        final String agent;
        final String secret;
        final Path stateDir;
        final Path targets;
        final Path config;
        final Path policy;
        String livePath;
        TestVault vault;
        String grace = "0s";

        Host(String agent, String secret, Path stateDir, Path targets) {
            this.agent = agent;
            this.secret = secret;
            this.stateDir = stateDir;
            this.targets = targets;
            this.config = work.resolve("keyward-" + agent + ".yaml");
            this.policy = work.resolve("policy-" + agent + ".yaml");
            this.livePath = "trust/" + secret;
        }

        OutsideConsumer consumer() throws IOException {
            return OutsideConsumer.start(issuerState, List.of(OutsideConsumer.File.raw(targets.resolve("app.key")),
                    new OutsideConsumer.File(targets.resolve("app.json"), "json", "api_key", null)), 5, logs.resolve(agent));
        }

        void against(TestVault v, String statePath) throws IOException {
            this.vault = v;
            writePolicy();
            Files.writeString(config, String.join("\n",
                    "agent: { id: " + agent + " }",
                    "vault: { address: \"" + v.address() + "\" }",
                    "policy: " + policy,
                    "state: { mount: secret, path: " + statePath + ", dir: " + stateDir + " }",
                    "audit: { file: " + logs.resolve("audit-" + agent + ".jsonl") + ", hmac_key_file: " + work.resolve("hmac.key") + " }",
                    ""));
        }

        void grace(String g) throws IOException {
            grace = g;
            writePolicy();
        }

        private void writePolicy() throws IOException {
            String issuer = TestDirs.target().getParent().resolve("src/test/resources/issuer.sh").toString();
            Files.writeString(policy, String.join("\n",
                    "issuers:",
                    "  it: { type: command, issue: [bash, " + issuer + ", issue], revoke: [bash, " + issuer + ", revoke] }",
                    "secrets:",
                    "  - id: " + secret,
                    "    path: " + livePath,
                    "    fields: [api_key]",
                    "    generator: { type: issuer, issuer: it }",
                    "    schedule: { every: 30d }",
                    "    grace: " + grace,
                    "    targets:",
                    "      - { id: app, type: file, path: " + targets.resolve("app.key") + " }",
                    "      - { id: app-json, type: file, format: json, path: " + targets.resolve("app.json") + " }",
                    ""));
        }

        void rotateThenSync() throws IOException {
            cli("rotate", secret, "--now");
            check();
            sync();
        }

        void sync() throws IOException {
            cli("sync");
            check();
        }

        void cli(String... args) {
            List<String> all = new ArrayList<>(List.of(args));
            all.addAll(List.of("-c", config.toString()));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            PrintStream p = new PrintStream(out, true, StandardCharsets.UTF_8);
            int code = Cli.run(all.toArray(String[]::new), p, p, Map.of("VAULT_TOKEN", vault.rootToken(),
                    "ISSUER_STATE", issuerState.toString()));
            assertThat(code).as(agent + ": keyward " + String.join(" ", args) + ": " + out.toString(StandardCharsets.UTF_8))
                    .isIn(0, 4);
            trackKeys();
        }

        /** Every file of this host holds Vault's live value (or there is none yet). */
        void check() throws IOException {
            JsonNode live = vault.admin("GET", "secret/data/" + livePath, null).path("data");
            String value = live.path("data").path("api_key").asString();
            int version = live.path("metadata").path("version").asInt();
            Path raw = targets.resolve("app.key");
            String held = Files.exists(raw) ? Files.readString(raw).strip() : "(no file)";
            if (!held.equals(value)) divergences.add(agent + " app.key is not on live v" + version);
            Path json = targets.resolve("app.json");
            if (!Files.exists(json) || !Files.readString(json).contains("\"" + value + "\"")) {
                divergences.add(agent + " app.json is not on live v" + version);
            }
        }
    }

    private void trackKeys() {
        for (String sub : List.of("valid", "revoked")) {
            Path d = issuerState.resolve(sub);
            if (!Files.isDirectory(d)) continue;
            try (Stream<Path> s = Files.list(d)) {
                s.forEach(p -> Leaks.track(p.getFileName().toString()));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }
}
