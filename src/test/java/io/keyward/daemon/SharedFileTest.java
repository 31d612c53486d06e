package io.keyward.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyward.policy.Policy;
import io.keyward.rotation.Outcome;
import io.keyward.rotation.Phase;
import io.keyward.rotation.SecretBinding;
import io.keyward.testing.Leaks;
import io.keyward.testing.TestDirs;
import io.keyward.testing.TestVault;
import io.keyward.testing.VaultExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A file of the policy's {@code files} section, rendered from two secrets by the fully wired
 * agent: real OpenBao, a real file, a real reload program, an issuer that records revocations.
 */
@ExtendWith(VaultExtension.class)
final class SharedFileTest {

    @Test
    void aFileOfTwoSecrets_isWrittenWhole_reloadedOncePerChange_andHoldsBackEachOldValue(TestVault vault) throws Exception {
        Path dir = TestDirs.fresh("shared-file");
        Path secrets = TestDirs.credentials("shared-file");
        Path file = secrets.resolve("app/app.properties");
        Path reloads = secrets.resolve("reloads");
        Path revoked = secrets.resolve("revoked");
        Path issuer = script(secrets.resolve("issuer.sh"), "case \"$1\" in\n  accept) cat > /dev/null ;;\n"
                // one write per value: two rotations revoke at once and must not interleave their lines
                + "  revoke) v=$(cat); printf '%s\\n' \"$v\" >> " + revoked + " ;;\n  *) exit 2 ;;\nesac\n");
        // The reload copies what it finds, so the test sees what the application loaded at each reload.
        Path reload = script(secrets.resolve("reload.sh"), "cat " + file + " >> " + reloads + "; echo '--' >> " + reloads + "\n");
        Path policy = Files.writeString(dir.resolve("policy.yaml"), String.join("\n",
                "defaults: { attempts: 1, restarts: { at_once: 1, splay: 0s } }",
                "issuers:",
                "  db-server: { type: command, issue: [/bin/false], accept: [" + issuer + ", accept], revoke: [" + issuer + ", revoke] }",
                "secrets:",
                "  - id: db",
                "    path: " + vault.uniqueName("apps") + "/db",
                "    fields: [password]",
                "    generator: { type: random, length: 20 }",
                "    issuer: db-server",
                "    schedule: { every: 30d }",
                "    grace: 0s",
                "    watch: off",
                "  - id: api",
                "    path: " + vault.uniqueName("apps") + "/api",
                "    fields: [key]",
                "    generator: { type: random, length: 20, field: key }",
                "    issuer: db-server",
                "    schedule: { every: 30d }",
                "    grace: 0s",
                "    watch: off",
                "files:",
                "  - id: app-config",
                "    path: " + file,
                "    template: |",
                "      db.password={{ db.password }}",
                "      api.key={{api.key}}",
                "    mode: \"0640\"",
                "    then: [" + reload + "]",
                ""));
        Path config = vault.agentConfig(dir, "shared-file", policy, secrets);
        Map<String, String> env = Map.of("VAULT_TOKEN", vault.rootToken());
        try (Agent agent = Agent.start(AgentConfig.load(config, env, "shared-host"), Policy.load(policy), Clock.systemUTC(),
                io.keyward.rotation.Plugins.PhaseListener.none(), env)) {
            SecretBinding db = agent.binding("db");
            SecretBinding api = agent.binding("api");
            assertThat(db.targetIds()).containsExactly("app-config");
            assertThat(api.targetIds()).containsExactly("app-config");

            // db's first value cannot be rendered alone: the file is not written and the rotation waits.
            Outcome first = agent.rotator().rotate(db, true, false, "test");
            assertThat(first.describe()).contains("app-config").contains("secret api has no version in Vault yet");
            assertThat(file).doesNotExist();

            assertThat(agent.rotator().rotate(api, true, false, "test")).isInstanceOf(Outcome.Completed.class);
            assertThat(agent.rotator().resume(db)).isInstanceOf(Outcome.Completed.class);
            String db1 = live(agent, db, "password");
            String api1 = live(agent, api, "key");
            assertThat(Files.readString(file)).isEqualTo("db.password=" + db1 + "\napi.key=" + api1 + "\n");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-r-----");
            int reloadsBefore = reloadCount(reloads);

            // One secret changes: the other's value stays, one reload, and only then the old value is revoked.
            assertThat(agent.rotator().rotate(db, true, false, "test")).isInstanceOf(Outcome.Completed.class);
            String db2 = live(agent, db, "password");
            assertThat(Files.readString(file)).isEqualTo("db.password=" + db2 + "\napi.key=" + api1 + "\n");
            assertThat(reloadCount(reloads)).isEqualTo(reloadsBefore + 1);
            assertThat(lastReload(reloads)).contains(db2);
            assertThat(Files.readAllLines(revoked)).contains(db1);

            // Both change together: one reload for the change, which already has both new values.
            CompletableFuture<Outcome> a = CompletableFuture.supplyAsync(() -> rotate(agent, db));
            CompletableFuture<Outcome> b = CompletableFuture.supplyAsync(() -> rotate(agent, api));
            assertThat(a.get()).isInstanceOf(Outcome.Completed.class);
            assertThat(b.get()).isInstanceOf(Outcome.Completed.class);
            String db3 = live(agent, db, "password");
            String api2 = live(agent, api, "key");
            assertThat(Files.readString(file)).isEqualTo("db.password=" + db3 + "\napi.key=" + api2 + "\n");
            assertThat(reloadCount(reloads)).as("one reload for two secrets changed together").isEqualTo(reloadsBefore + 2);
            assertThat(lastReload(reloads)).contains(db3).contains(api2);
            assertThat(Files.readAllLines(revoked)).contains(db2, api1);

            // A reload that fails keeps the rotation from completing: the old value is not revoked.
            Files.writeString(reload, "#!/bin/sh\nexit 3\n");
            Outcome failing = agent.rotator().rotate(api, true, false, "test");
            assertThat(failing).isInstanceOf(Outcome.Waiting.class);
            assertThat(((Outcome.Waiting) failing).phase()).isEqualTo(Phase.PROMOTED);
            assertThat(failing.describe()).contains("app-config").contains("exited with 3");
            String api3 = live(agent, api, "key");
            assertThat(Files.readAllLines(revoked)).doesNotContain(api2);

            // Edited by hand: the watch writes it again, whole.
            Files.writeString(reload, "#!/bin/sh\ncat " + file + " >> " + reloads + "; echo '--' >> " + reloads + "\n");
            assertThat(agent.rotator().resume(api)).isInstanceOf(Outcome.Completed.class);
            assertThat(Files.readAllLines(revoked)).contains(api2);
            Files.writeString(file, "db.password=edited\n");
            assertThat(agent.rotator().sync(db)).isInstanceOf(Outcome.Repaired.class);
            assertThat(Files.readString(file)).isEqualTo("db.password=" + db3 + "\napi.key=" + api3 + "\n");
            assertThat(Files.readString(dir.resolve("audit.jsonl"))).doesNotContain(db3).doesNotContain(api3);
        }
    }

    private static Outcome rotate(Agent agent, SecretBinding b) {
        try {
            return agent.rotator().rotate(b, true, false, "test");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static String live(Agent agent, SecretBinding b, String field) throws Exception {
        return Leaks.track(agent.vault().read(b.livePath()).orElseThrow().data().string(field).orElseThrow());
    }

    private static int reloadCount(Path reloads) throws Exception {
        return Files.exists(reloads) ? (int) Files.readAllLines(reloads).stream().filter("--"::equals).count() : 0;
    }

    private static String lastReload(Path reloads) throws Exception {
        List<String> blocks = List.of(Files.readString(reloads).split("--\n"));
        return blocks.get(blocks.size() - 1);
    }

    private static Path script(Path p, String body) throws Exception {
        Files.createDirectories(p.getParent());
        Files.writeString(p, "#!/bin/sh\n" + body);
        p.toFile().setExecutable(true);
        return p;
    }
}
