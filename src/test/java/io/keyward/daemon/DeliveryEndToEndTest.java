package io.keyward.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyward.policy.Policy;
import io.keyward.rotation.Outcome;
import io.keyward.rotation.Phase;
import io.keyward.rotation.SecretBinding;
import io.keyward.rotation.SecretData;
import io.keyward.rotation.SecretPath;
import io.keyward.testing.Leaks;
import io.keyward.testing.Receiver;
import io.keyward.testing.TestDirs;
import io.keyward.testing.TestVault;
import io.keyward.testing.VaultExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A generated secret delivered by the fully wired agent to a file (env format, command health
 * check), a signed webhook and an exec reload (HTTP health check), with an issuer script that
 * accepts and revokes: real OpenBao, real files, a real receiver, real programs.
 */
@ExtendWith(VaultExtension.class)
final class DeliveryEndToEndTest {

    @Test
    void rotationsReachEveryTarget_readersSeeWholeFiles_andADownTargetKeepsTheOldKeyValid(TestVault vault)
            throws Exception {
        Path dir = TestDirs.fresh("delivery-e2e");
        Path secrets = TestDirs.credentials("delivery-e2e");
        Path envFile = secrets.resolve("app/db.env");
        Path reloaded = secrets.resolve("reloads");
        Path revoked = secrets.resolve("revoked");
        Path accepted = secrets.resolve("accepted");
        Path issuer = script(secrets.resolve("issuer.sh"), "case \"$1\" in\n"
                + "  accept) cat >> " + accepted + "; echo >> " + accepted + " ;;\n"
                + "  revoke) cat >> " + revoked + "; echo >> " + revoked + " ;;\n"
                + "  *) exit 2 ;;\nesac\n");
        Path reload = script(secrets.resolve("reload.sh"), "echo \"$KEYWARD_VERSION\" >> " + reloaded + "\n");

        SecretPath hookKey = vault.uniquePath("hook-key");
        String hmac = Leaks.secret("hook");
        try (Receiver hook = Receiver.start(hmac); Receiver health = Receiver.start(null)) {
            Path policy = Files.writeString(dir.resolve("policy.yaml"), String.join("\n",
                    "defaults: { restarts: { at_once: 1, splay: 0s }, attempts: 2, backoff: { initial: 0s, max: 1s } }",
                    "issuers:",
                    "  app-db: { type: command, issue: [/bin/false], accept: [" + issuer + ", accept], revoke: [" + issuer + ", revoke] }",
                    "secrets:",
                    "  - id: app-db",
                    "    path: " + vault.uniqueName("apps") + "/db",
                    "    fields: [password]",
                    "    generator: { type: random, length: 40 }",
                    "    issuer: app-db",
                    "    schedule: { every: 30d }",
                    "    grace: 0s",
                    "    watch: off",
                    "    targets:",
                    "      - id: app-env",
                    "        type: file",
                    "        path: " + envFile,
                    "        format: env",
                    "        health: { command: [/bin/grep, -q, '^PASSWORD=\"', " + envFile + "], wait: 0s }",
                    "      - id: app-reload",
                    "        type: exec",
                    "        command: [" + reload + "]",
                    "        health: { url: \"" + health.url("/health") + "\", wait: 0s }",
                    "      - id: notify-app",
                    "        type: webhook",
                    "        url: \"" + hook.url("/rotated") + "\"",
                    "        signing_key: { path: " + hookKey.path() + " }",
                    ""));
            Path config = vault.agentConfig(dir, "e2e", policy, secrets);
            Map<String, String> env = Map.of("VAULT_TOKEN", vault.rootToken());
            AgentConfig agentConfig = AgentConfig.load(config, env, "e2e-host");
            try (Agent agent = Agent.start(agentConfig, Policy.load(policy), Clock.systemUTC(),
                    io.keyward.rotation.Plugins.PhaseListener.none(), env)) {
                agent.vault().write(hookKey, SecretData.of("hmac_key", hmac), OptionalInt.empty());
                SecretBinding b = agent.binding("app-db");
                assertThat(agent.rotator().rotate(b, true, false, "test")).isInstanceOf(Outcome.Completed.class);
                List<String> live = new ArrayList<>();
                live.add(Leaks.track(agent.vault().read(b.livePath()).orElseThrow().data().string("password").orElseThrow()));

                // A reader loop during ten rotations sees only whole files holding a value that was live.
                Set<String> seen = ConcurrentHashMap.newKeySet();
                List<String> torn = Collections.synchronizedList(new ArrayList<>());
                AtomicBoolean stop = new AtomicBoolean();
                Thread reader = new Thread(() -> {
                    while (!stop.get()) {
                        try {
                            String text = Files.readString(envFile);
                            if (!text.matches("PASSWORD=\"[^\"]{40}\"\n")) torn.add("read " + text.length() + " characters");
                            else seen.add(text.substring(10, 50));
                        } catch (java.io.IOException e) {
                            torn.add(e.toString());
                        }
                    }
                });
                reader.start();
                for (int i = 0; i < 10; i++) {
                    assertThat(agent.rotator().rotate(b, true, false, "test")).isInstanceOf(Outcome.Completed.class);
                    live.add(Leaks.track(agent.vault().read(b.livePath()).orElseThrow().data().string("password").orElseThrow()));
                }
                stop.set(true);
                reader.join();
                assertThat(torn).isEmpty();
                assertThat(seen).isNotEmpty();
                // (compared as a count so that a failure never prints a value)
                assertThat(seen.stream().filter(v -> !live.contains(v)).count()).as("values read that were never live")
                        .isZero();

                // The webhook receiver goes down: the rotation waits, the old key is not revoked.
                String old = live.get(live.size() - 1);
                hook.answer(503);
                Outcome waiting = agent.rotator().rotate(b, true, false, "test");
                assertThat(waiting).isInstanceOf(Outcome.Waiting.class);
                assertThat(((Outcome.Waiting) waiting).phase()).isEqualTo(Phase.PROMOTED);
                assertThat(waiting.describe()).contains("notify-app").contains("HTTP 503");
                assertThat(Files.readAllLines(revoked)).doesNotContain(old);
                String fresh = Leaks.track(agent.vault().read(b.livePath()).orElseThrow().data().string("password").orElseThrow());
                assertThat(Files.readString(envFile)).contains(fresh);

                // It comes back: the rotation completes and only then the old key is revoked.
                hook.answer(200);
                assertThat(agent.rotator().resume(b)).isInstanceOf(Outcome.Completed.class);
                assertThat(Files.readAllLines(revoked)).contains(old);
                assertThat(Files.readAllLines(accepted)).contains(fresh);

                assertThat(hook.requests()).hasSizeGreaterThanOrEqualTo(12).allMatch(Receiver.Request::signed);
                assertThat(hook.requests()).extracting(Receiver.Request::body).noneMatch(body -> body.contains(old));
                assertThat(Files.readAllLines(reloaded)).hasSize(12);
                assertThat(Files.readString(dir.resolve("audit.jsonl"))).doesNotContain(old, fresh);
            }
        }
    }

    private static Path script(Path p, String body) throws Exception {
        Files.createDirectories(p.getParent());
        Files.writeString(p, "#!/bin/sh\n" + body);
        p.toFile().setExecutable(true);
        return p;
    }
}
