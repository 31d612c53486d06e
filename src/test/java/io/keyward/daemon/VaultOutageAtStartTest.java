package io.keyward.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyward.testing.FaultProxy;
import io.keyward.testing.KeywardProcess;
import io.keyward.testing.Leaks;
import io.keyward.testing.TestDirs;
import io.keyward.testing.TestPorts;
import io.keyward.testing.TestVault;
import io.keyward.testing.VaultExtension;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code keyward run} started while Vault is down, for longer than systemd's start limit
 * (5 restarts, 5 s apart) would allow a process that exits: it waits, says why in STATUS= and
 * /readyz, and rotates and delivers once Vault answers, without a restart. Started again with
 * Vault down and its targets in place (the local ledger says so), it is READY at once.
 */
@ExtendWith(VaultExtension.class)
final class VaultOutageAtStartTest {

    private TestVault vault;
    private FaultProxy proxy;
    private Path work;
    private Path logs;
    private String run;
    private int port;
    private KeywardProcess child;

    @BeforeEach
    void setUp(TestVault vault) throws Exception {
        this.vault = vault;
        this.proxy = FaultProxy.in(vault.address());
        this.run = "o" + UUID.randomUUID().toString().substring(0, 8);
        this.work = TestDirs.credentials("outage-" + run);
        this.logs = TestDirs.fresh("outage-" + run);
        this.port = TestPorts.free();
    }

    @AfterEach
    void tearDown() throws Exception {
        if (child != null) child.close();
        proxy.close();
    }

    @Test
    void vaultDownAtStart_theServiceWaits_thenRotatesAndDelivers_withoutARestart() throws Exception {
        Path target = work.resolve("targets/app.key");
        Path config = writeConfig();
        proxy.mode(FaultProxy.Mode.REFUSE);
        Instant down = Instant.now();
        child = start(config);

        String status = child.awaitStarting("EXTEND_TIMEOUT_USEC=", 20);
        assertThat(status).contains("STATUS=Vault unreachable: connection refused; try ")
                .contains("; not ready: target app of " + run + "-app was never delivered on this host");
        HttpResponse<String> ready = get("/readyz");
        assertThat(ready.statusCode()).isEqualTo(503);
        assertThat(ready.body()).contains("waiting for Vault at " + proxy.address());
        assertThat(get("/healthz").statusCode()).isEqualTo(200);

        while (Duration.between(down, Instant.now()).compareTo(Duration.ofSeconds(30)) < 0) {
            assertThat(child.alive()).as("keyward exited while Vault was down: " + child.tail()).isTrue();
            Thread.sleep(1000);
        }
        assertThat(Files.exists(target)).isFalse();
        long pid = child.pid();
        proxy.mode(FaultProxy.Mode.FORWARD);
        child.awaitReady(90);
        assertThat(child.pid()).isEqualTo(pid);
        child.awaitFile(target, 60);
        String live = vault.admin("GET", "secret/data/outage/" + run + "/app", null).path("data").path("data")
                .path("password").asString();
        Leaks.track(live);
        assertThat(Files.readString(target).strip()).isEqualTo(live);
        assertThat(get("/readyz").statusCode()).isEqualTo(200);
        assertThat(child.log()).contains("waiting for Vault at " + proxy.address()).contains("(try 5, next in ");
        assertThat(child.stop()).isZero();

        // Again with Vault down: the ledger shows the target in place, so READY comes at once
        proxy.mode(FaultProxy.Mode.REFUSE);
        child.start();
        String early = child.await("READY=1", 30);
        assertThat(early).contains("STATUS=targets hold what was last delivered; Vault unreachable: connection refused");
        assertThat(Files.readString(target).strip()).isEqualTo(live);
        assertThat(get("/readyz").statusCode()).isEqualTo(503);
        proxy.mode(FaultProxy.Mode.FORWARD);
        child.awaitStarting("STATUS=1 secret", 90);
        assertThat(get("/readyz").statusCode()).isEqualTo(200);
        assertThat(child.stop()).isZero();

        // Again with Vault up, away for seconds (less than fleet.member_timeout) and the target in place: READY
        // before Vault is read; a version written meanwhile is delivered by the first look right after.
        String meanwhile = "meanwhile-" + run + "-0123456789abcdef";
        Leaks.track(meanwhile);
        vault.admin("POST", "secret/data/outage/" + run + "/app", "{\"data\":{\"password\":\"" + meanwhile + "\"}}");
        child.start();
        assertThat(child.await("READY=1", 30)).contains("READY before the first look at Vault (targets in place)");
        child.awaitFile(target, 30);
        for (int i = 0; i < 100 && !Files.readString(target).strip().equals(meanwhile); i++) Thread.sleep(100);
        assertThat(Files.readString(target).strip()).isEqualTo(meanwhile);
        assertThat(child.stop()).isZero();
    }

    private Path writeConfig() throws Exception {
        Path policy = Files.writeString(work.resolve("policy.yaml"), String.join("\n",
                "secrets:",
                "  - id: " + run + "-app",
                "    path: outage/" + run + "/app",
                "    fields: [password]",
                "    generator: { type: random, length: 32 }",
                "    schedule: { every: 30d }",
                "    grace: 0s",
                "    targets:",
                "      - { id: app, type: file, path: " + work.resolve("targets/app.key") + " }",
                ""));
        return Files.writeString(work.resolve("keyward.yaml"), String.join("\n",
                "agent: { id: outage-agent-" + run + " }",
                "vault:",
                "  address: \"" + proxy.address() + "\"",
                "  timeouts: { connect: 1s, request: 2s }",
                "  retry: { attempts: 1 }",
                "state: { mount: secret, path: outage-state/" + run + ", dir: " + work.resolve("state") + " }",
                "policy: " + policy,
                "metrics: { listen: 127.0.0.1:" + port + " }",
                "audit:",
                "  file: " + logs.resolve("audit.jsonl"),
                "  hmac_key_file: " + work.resolve("hmac.key"),
                ""));
    }

    private KeywardProcess start(Path config) throws Exception {
        KeywardProcess p = new KeywardProcess("keyward", config, logs, Map.of("VAULT_TOKEN", vault.rootToken(),
                "WATCHDOG_USEC", "2000000"));
        p.start();
        return p;
    }

    private HttpResponse<String> get(String path) throws Exception {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            try {
                return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            } catch (java.io.IOException e) {
                if (System.nanoTime() > until) throw e;
                Thread.sleep(200);
            }
        }
    }
}
