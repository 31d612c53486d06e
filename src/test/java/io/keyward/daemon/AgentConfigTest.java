package io.keyward.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keyward.policy.ConfigException;
import io.keyward.policy.Problem;
import io.keyward.vault.VaultAuth;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

final class AgentConfigTest {

    private static final Path FIXTURES = Path.of("src/test/resources/config");

    @Test
    void exampleConfig_loads() throws Exception {
        AgentConfig c = AgentConfig.load(Path.of("config/keyward.yaml"),
                Map.of("CREDENTIALS_DIRECTORY", "/run/credentials/keyward.service"), "host-a");

        assertThat(c.agentId()).isEqualTo("keyward-1");
        assertThat(c.vault().address().toString()).isEqualTo("https://vault.example.com:8200");
        assertThat(c.vault().auth()).isEqualTo(new VaultAuth.AppRole("approle",
                Path.of("/etc/keyward/vault-role-id"), Path.of("/run/credentials/keyward.service/vault-secret-id")));
        assertThat(c.vault().tls().caFile()).contains(Path.of("/etc/keyward/vault-ca.pem"));
        assertThat(c.vault().tls().skipVerify()).isFalse();
        assertThat(c.vault().retry()).isEqualTo(new io.keyward.rotation.Retrier.Backoff(4, Duration.ofMillis(250),
                Duration.ofSeconds(5)));
        assertThat(c.vault().requestTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(c.vault().maxConnections()).isEqualTo(8);
        assertThat(c.state().toString()).isEqualTo("secret/keyward");
        assertThat(c.audit().file()).isEqualTo(Path.of("/var/log/keyward/audit.jsonl"));
        assertThat(c.threads()).isEqualTo(4);
        assertThat(c.metrics()).hasValueSatisfying(a -> assertThat(a.getHostString() + ":" + a.getPort())
                .isEqualTo("127.0.0.1:9464"));
        assertThat(c.stateDir()).isEqualTo(Path.of("/var/lib/keyward"));
        assertThat(c.fleet()).isEqualTo(new AgentConfig.Fleet(Duration.ofSeconds(30), Duration.ofMinutes(15)));
    }

    /** vault.retry is read by the policy's reader: the same keys, limits and messages as a secret's attempts and backoff. */
    @Test
    void vaultRetry_hasThePolicyShape(@TempDir Path dir) throws Exception {
        Path f = Files.writeString(dir.resolve("k.yaml"),
                "vault:\n  retry:\n    attempts: 2\n    backoff: { initial: 1s, max: 3s }\n");
        assertThat(AgentConfig.load(f, Map.of("VAULT_TOKEN", "t"), "h").vault().retry())
                .isEqualTo(new io.keyward.rotation.Retrier.Backoff(2, Duration.ofSeconds(1), Duration.ofSeconds(3)));
        Path bad = Files.writeString(dir.resolve("bad.yaml"),
                "vault:\n  retry:\n    backoff: { initial: 10s, max: 1s }\n");
        assertThatThrownBy(() -> AgentConfig.load(bad, Map.of("VAULT_TOKEN", "t"), "h"))
                .hasMessageContaining("bad.yaml:3:35: backoff max 1s is shorter than initial 10s (make max at least the initial backoff)");
        Path policy = Files.writeString(dir.resolve("p.yaml"), "defaults:\n  backoff: { initial: 10s, max: 1s }\nsecrets: []\n");
        assertThatThrownBy(() -> io.keyward.policy.Policy.load(policy))
                .hasMessageContaining("p.yaml:2:33: backoff max 1s is shorter than initial 10s (make max at least the initial backoff)");
    }

    @Test
    void metricsListener_isOnByDefault_andOffWhenSaidSo(@TempDir Path dir) throws Exception {
        Path on = Files.writeString(dir.resolve("on.yaml"), "agent:\n  id: a1\n");
        assertThat(AgentConfig.load(on, Map.of("VAULT_TOKEN", "t"), "h").metrics()).contains(AgentConfig.DEFAULT_METRICS);
        Path off = Files.writeString(dir.resolve("off.yaml"), "metrics:\n  listen: off\n");
        assertThat(AgentConfig.load(off, Map.of("VAULT_TOKEN", "t"), "h").metrics()).isEmpty();
        Path v6 = Files.writeString(dir.resolve("v6.yaml"), "metrics:\n  listen: \"[::1]:9500\"\n");
        assertThat(AgentConfig.load(v6, Map.of("VAULT_TOKEN", "t"), "h").metrics().orElseThrow().getHostString()).isEqualTo("::1");
    }

    @Test
    void missingSettings_comeFromTheEnvironment_thenDefaults(@TempDir Path dir) throws Exception {
        Path f = Files.writeString(dir.resolve("k.yaml"), "agent:\n  id: a1\n");
        AgentConfig c = AgentConfig.load(f, Map.of("VAULT_ADDR", "http://10.0.0.5:8200", "VAULT_TOKEN", "hvs.env",
                "VAULT_CACERT", "/etc/ca.pem", "VAULT_NAMESPACE", "ns1", "VAULT_CLIENT_CERT", "/etc/c.pem",
                "VAULT_CLIENT_KEY", "/etc/k.pem", "VAULT_TLS_SERVER_NAME", "vault.internal"), "host-a");

        assertThat(c.vault().address().toString()).isEqualTo("http://10.0.0.5:8200");
        assertThat(c.vault().auth()).isInstanceOf(VaultAuth.Token.class);
        assertThat(((VaultAuth.Token) c.vault().auth()).token()).contains("hvs.env");
        assertThat(c.vault().tls().caFile()).contains(Path.of("/etc/ca.pem"));
        assertThat(c.vault().tls().clientCertFile()).contains(Path.of("/etc/c.pem"));
        assertThat(c.vault().tls().clientKeyFile()).contains(Path.of("/etc/k.pem"));
        assertThat(c.vault().tls().serverName()).contains("vault.internal");
        assertThat(c.vault().namespace()).contains("ns1");
        assertThat(c.state().toString()).isEqualTo("secret/keyward");
        assertThat(c.stateDir()).isEqualTo(AgentConfig.DEFAULT_STATE_DIR);
        assertThat(c.fleet()).isEqualTo(AgentConfig.Fleet.DEFAULT);
    }

    @Test
    void aUnixSocketAddress_isTaken(@TempDir Path dir) throws Exception {
        Path f = Files.writeString(dir.resolve("k.yaml"), "vault:\n  address: unix:///run/vault/agent.sock\n");
        assertThat(AgentConfig.load(f, Map.of("VAULT_TOKEN", "t"), "h").vault().address().toString())
                .isEqualTo("unix:///run/vault/agent.sock");
    }

    @Test
    void fileSettings_winOverTheEnvironment(@TempDir Path dir) throws Exception {
        Path f = Files.writeString(dir.resolve("k.yaml"),
                "vault:\n  address: https://vault.internal:8200\n  auth:\n    token_file: /etc/keyward/token\n");
        AgentConfig c = AgentConfig.load(f, Map.of("VAULT_ADDR", "http://elsewhere:8200", "VAULT_TOKEN", "hvs.env"), "h");

        assertThat(c.vault().address().toString()).isEqualTo("https://vault.internal:8200");
        assertThat(((VaultAuth.Token) c.vault().auth()).file()).contains(Path.of("/etc/keyward/token"));
        assertThat(((VaultAuth.Token) c.vault().auth()).token()).isEmpty();
        assertThat(c.agentId()).isEqualTo("h");
    }

    @Test
    void jwtAndKubernetesAuth_readTheirRoleMountAndTokenFile(@TempDir Path dir) throws Exception {
        Path jwt = Files.writeString(dir.resolve("jwt.yaml"),
                "vault:\n  auth: { method: jwt, role: ci-deploy, jwt_file: /run/secrets/tokens/vault }\n");
        assertThat(AgentConfig.load(jwt, Map.of(), "h").vault().auth())
                .isEqualTo(new VaultAuth.Jwt("jwt", "ci-deploy", Path.of("/run/secrets/tokens/vault")));
        Path mounted = Files.writeString(dir.resolve("mounted.yaml"),
                "vault:\n  auth: { method: jwt, mount: gitlab/, role: r, jwt_file: /t }\n");
        assertThat(((VaultAuth.Jwt) AgentConfig.load(mounted, Map.of(), "h").vault().auth()).mount()).isEqualTo("gitlab");
        Path k8s = Files.writeString(dir.resolve("k8s.yaml"), "vault:\n  auth: { method: kubernetes, role: keyward }\n");
        assertThat(AgentConfig.load(k8s, Map.of(), "h").vault().auth()).isEqualTo(new VaultAuth.Kubernetes("kubernetes",
                "keyward", Path.of("/var/run/secrets/kubernetes.io/serviceaccount/token")));
    }

    @Test
    void inlineToken_neverShowsInToString(@TempDir Path dir) throws Exception {
        Path f = Files.writeString(dir.resolve("k.yaml"), "vault:\n  address: http://v:8200\n  auth:\n    token: hvs.SECRETTOKEN\n");
        AgentConfig c = AgentConfig.load(f, Map.of(), "h");
        assertThat(c.toString()).doesNotContain("hvs.SECRETTOKEN").contains("(hidden)");
    }

    @Test
    void everyProblem_isReportedAtOnce(@TempDir Path dir) throws Exception {
        Path f = Files.writeString(dir.resolve("k.yaml"), String.join("\n",
                "vault:",
                "  adress: http://v:8200",
                "  auth:",
                "    method: approle",
                "  timeouts:",
                "    conect: 5s",
                "audit:",
                "  fil: /tmp/x",
                ""));
        assertThatThrownBy(() -> AgentConfig.load(f, Map.of(), "h"))
                .isInstanceOf(ConfigException.class)
                .satisfies(e -> assertThat(((ConfigException) e).problems()).hasSize(5))
                .hasMessageContaining("k.yaml:2:3: unknown key 'adress' in config.vault (did you mean 'address'?)")
                .hasMessageContaining("k.yaml:6:5: unknown key 'conect' in config.vault.timeouts (did you mean 'connect'?)")
                .hasMessageContaining("k.yaml:8:3: unknown key 'fil' in config.audit (did you mean 'file'?)")
                .hasMessageContaining("role_id_file is missing")
                .hasMessageContaining("secret_id_file is missing");
    }

    static Stream<Arguments> badFixtures() {
        return Stream.of(
                Arguments.of("bad-unknown-key.yaml", "2:3", "unknown key 'adress' in config.vault (did you mean 'address'?)"),
                Arguments.of("bad-auth-method.yaml", "4:13", "'apprle' is not one of [token, approle, kubernetes, jwt, cert] (did you mean 'approle'?)"),
                Arguments.of("bad-approle-missing-files.yaml", "4:5", "vault.auth.role_id_file is missing"),
                Arguments.of("bad-address.yaml", "2:12", "is not an http(s) URL"),
                Arguments.of("bad-duration.yaml", "6:14", "'five seconds' is not a duration"),
                Arguments.of("bad-retry.yaml", "6:15", "attempts is 0, outside 1..20"),
                Arguments.of("bad-retry-old-keys.yaml", "6:22", "vault.retry.initial_backoff is now written as in the policy"),
                Arguments.of("bad-no-token.yaml", "2:3", "no Vault token"),
                Arguments.of("bad-tls-half-client-cert.yaml", "6:5", "needs both client_cert_file and client_key_file"),
                Arguments.of("bad-unset-variable.yaml", "6:21", "uses ${NO_SUCH_VARIABLE}, which is not set"),
                Arguments.of("bad-yaml-syntax.yaml", "3:", "not valid YAML"),
                Arguments.of("bad-duplicate-key.yaml", "7:1", "'state' is given twice (first at line 5)"),
                Arguments.of("bad-state-path.yaml", "6:3", "bad segment '..'"),
                Arguments.of("bad-kubernetes-no-role.yaml", "4:5", "vault.auth.role is missing"),
                Arguments.of("bad-jwt-no-file.yaml", "4:5", "vault.auth.jwt_file is missing (jwt auth reads the identity token"),
                Arguments.of("bad-not-a-mapping.yaml", "1:8", "config.vault must be a mapping of keys, not a text"),
                Arguments.of("bad-skip-verify-not-boolean.yaml", "6:18", "skip_verify must be true or false"),
                Arguments.of("bad-metrics-listen.yaml", "6:11", "metrics.listen 'localhost' is not host:port"),
                Arguments.of("bad-threads.yaml", "6:12", "threads is 0, outside 1..64"),
                Arguments.of("bad-max-connections.yaml", "6:20", "max_connections is 0, outside 1..256"),
                Arguments.of("bad-fleet-timeout.yaml", "7:19", "fleet.member_timeout 2m is shorter than three heartbeats"),
                Arguments.of("bad-hmac-key-no-path.yaml", "6:13", "audit.hmac_key has no path"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badFixtures")
    void badConfig_isRejected_withPlaceAndReason(String fixture, String lineColumn, String message) {
        Path file = FIXTURES.resolve(fixture);
        assertThatThrownBy(() -> AgentConfig.load(file, Map.of(), "h"))
                .isInstanceOf(ConfigException.class)
                .satisfies(e -> assertThat(((ConfigException) e).problems())
                        .anySatisfy(p -> {
                            assertThat(p.toString()).startsWith(file + ":" + lineColumn);
                            assertThat(p.message() + (p.fix() == null ? "" : " (" + p.fix() + ")")).contains(message);
                        }));
    }

    @Test
    void everyBadFixture_isCoveredByATestCase() throws Exception {
        try (Stream<Path> files = Files.list(FIXTURES)) {
            assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("bad-")))
                    .containsExactlyInAnyOrderElementsOf(badFixtures().map(a -> (String) a.get()[0]).toList());
        }
    }

    @Test
    void missingFile_saysSo() {
        assertThatThrownBy(() -> AgentConfig.load(Path.of("no/such/keyward.yaml"), Map.of(), "h"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("no/such/keyward.yaml:1:1: file not found");
    }

    @Test
    void problem_toString_isFileLineColumnMessageFix() {
        Problem p = new Problem(new io.keyward.policy.YamlNode.Mark("a.yaml", 3, 7), "bad", "fix it");
        assertThat(p).hasToString("a.yaml:3:7: bad (fix it)");
    }
}
