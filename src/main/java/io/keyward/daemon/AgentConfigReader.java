package io.keyward.daemon;

import io.keyward.audit.JsonAuditLog;
import io.keyward.policy.ConfigException;
import io.keyward.policy.Durations;
import io.keyward.policy.Fields;
import io.keyward.policy.Problems;
import io.keyward.policy.YamlLoader;
import io.keyward.policy.YamlNode;
import io.keyward.rotation.Retrier;
import io.keyward.rotation.SecretPath;
import io.keyward.vault.TlsSettings;
import io.keyward.vault.VaultAuth;
import io.keyward.vault.VaultSettings;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads config/keyward.yaml into {@link AgentConfig}, reporting every problem with file:line:column. */
final class AgentConfigReader {

    private static final Pattern VAR = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}");
    private static final String DEFAULT_ADDRESS = "https://127.0.0.1:8200";

    enum Method { TOKEN, APPROLE, KUBERNETES, JWT, CERT }

    private final Map<String, String> env;
    private final String hostName;

    AgentConfigReader(Map<String, String> env, String hostName) {
        this.env = env;
        this.hostName = hostName;
    }

    AgentConfig read(Path file) throws ConfigException {
        YamlNode root = YamlLoader.load(file);
        Problems problems = new Problems();
        Fields top = Fields.of(root, "config", problems).orElse(null);
        if (top == null) {
            problems.throwIfAny();
        }
        String agentId = top.object("agent").map(a -> {
            String id = a.string("id", hostName);
            a.finish();
            return id;
        }).orElse(hostName);
        if (agentId == null || agentId.isBlank()) agentId = "keyward";

        Optional<Fields> vaultFields = top.object("vault");
        VaultSettings vault = vaultFields.isPresent() ? vault(vaultFields.get(), problems, vaultFields.get())
                : top.has("vault") ? null : vault(null, problems, top);
        Path[] stateDir = {AgentConfig.DEFAULT_STATE_DIR};
        SecretPath state = top.object("state").map(s -> {
            String mount = s.string("mount", "secret");
            String path = s.string("path", "keyward");
            expand(s, "dir").ifPresent(d -> stateDir[0] = d);
            s.finish();
            return secretPath(mount, path, s);
        }).orElse(SecretPath.of("secret", "keyward"));
        AgentConfig.Audit audit = top.object("audit").map(a -> {
            Path f = expand(a, "file").orElse(Path.of("/var/log/keyward/audit.jsonl"));
            Path k = expand(a, "hmac_key_file").orElse(Path.of("/var/lib/keyward/audit-hmac.key"));
            long maxBytes = size(a, "max_size", JsonAuditLog.Rolling.DEFAULT.maxBytes());
            int keep = a.integer("keep_days", JsonAuditLog.Rolling.DEFAULT.keepDays(), 1, 3650);
            Optional<SecretPath> shared = Optional.empty();
            String field = "key";
            Optional<Fields> h = a.object("hmac_key");
            if (h.isPresent()) {
                String mount = h.get().string("mount", "secret");
                String path = h.get().string("path", null);
                field = h.get().string("field", "key");
                if (path == null || path.isBlank()) {
                    problems.add(h.get().mark(), "audit.hmac_key has no path", "name the Vault secret every agent reads"
                            + " the key from, like { path: keyward/audit-key }");
                } else {
                    shared = Optional.of(secretPath(mount, path, h.get()));
                }
                h.get().finish();
            }
            a.finish();
            return new AgentConfig.Audit(f, k, new JsonAuditLog.Rolling(maxBytes, keep), shared, field);
        }).orElse(new AgentConfig.Audit(Path.of("/var/log/keyward/audit.jsonl"),
                Path.of("/var/lib/keyward/audit-hmac.key"), JsonAuditLog.Rolling.DEFAULT));
        Path base = file.toAbsolutePath().getParent();
        Path policy = expand(top, "policy").map(p -> base == null ? p : base.resolve(p)).orElse(
                base == null ? Path.of("policy.yaml") : base.resolve("policy.yaml"));
        Duration[] lease = {Duration.ofMinutes(2)};
        int[] threads = {AgentConfig.DEFAULT_THREADS};
        top.object("rotation").ifPresent(r -> {
            lease[0] = r.duration("lease", lease[0], Duration.ofSeconds(5), Duration.ofHours(1));
            threads[0] = r.integer("threads", threads[0], 1, 64);
            r.finish();
        });
        AgentConfig.Fleet fleet = top.object("fleet").map(f -> {
            Duration heartbeat = f.duration("heartbeat", AgentConfig.Fleet.DEFAULT.heartbeat(), Duration.ofSeconds(1),
                    Duration.ofHours(1));
            Duration timeout = f.duration("member_timeout", AgentConfig.Fleet.DEFAULT.memberTimeout(),
                    Duration.ofSeconds(10), Duration.ofDays(7));
            if (timeout.compareTo(heartbeat.multipliedBy(3)) < 0) {
                problems.add(f.markOf("member_timeout"), "fleet.member_timeout " + Durations.format(timeout)
                        + " is shorter than three heartbeats (" + Durations.format(heartbeat) + " each): a live member"
                        + " would be taken for a silent one", "make it at least " + Durations.format(heartbeat.multipliedBy(3)));
            }
            f.finish();
            return new AgentConfig.Fleet(heartbeat, timeout);
        }).orElse(AgentConfig.Fleet.DEFAULT);
        Optional<InetSocketAddress> metrics = top.object("metrics").map(m -> {
            Optional<InetSocketAddress> listen = listen(m);
            m.finish();
            return listen;
        }).orElse(Optional.of(AgentConfig.DEFAULT_METRICS));
        top.finish();
        problems.throwIfAny();
        return new AgentConfig(file, agentId, vault, state, stateDir[0], audit, policy, lease[0], threads[0], metrics, fleet);
    }

    /** A size like 100MB or 1GB (KB, MB, GB; at least 1MB). */
    private static long size(Fields f, String key, long fallback) {
        Optional<String> text = f.string(key);
        if (text.isEmpty()) return fallback;
        Matcher m = Pattern.compile("(?i)\\s*(\\d+)\\s*(KB|MB|GB)\\s*").matcher(text.get());
        long bytes = -1;
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            bytes = n * switch (m.group(2).toUpperCase(java.util.Locale.ROOT)) {
                case "KB" -> 1024L;
                case "MB" -> 1024L * 1024;
                default -> 1024L * 1024 * 1024;
            };
        }
        if (bytes < 1024L * 1024) {
            f.problems().add(f.markOf(key), f.where() + "." + key + " '" + text.get() + "' is not a size of 1MB or more",
                    "write it like 100MB or 1GB");
            return fallback;
        }
        return bytes;
    }

    /** metrics.listen: host:port (an IPv6 host in brackets), or off. */
    private static Optional<InetSocketAddress> listen(Fields m) {
        String text = m.string("listen", "127.0.0.1:9464").strip();
        if (text.equals("off") || text.equals("false")) return Optional.empty();
        int colon = text.lastIndexOf(':');
        String host = colon > 0 ? text.substring(0, colon) : "";
        if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
        int port = -1;
        try {
            port = colon > 0 ? Integer.parseInt(text.substring(colon + 1)) : -1;
        } catch (NumberFormatException e) {
            // reported below
        }
        if (host.isEmpty() || port < 0 || port > 65535) {
            m.problems().add(m.markOf("listen"), "metrics.listen '" + text + "' is not host:port",
                    "write it like 127.0.0.1:9464, or 'off' to serve no metrics");
            return Optional.empty();
        }
        return Optional.of(InetSocketAddress.createUnresolved(host, port));
    }

    /** {@code v} is null when the file has no vault section: everything then comes from the environment. */
    private VaultSettings vault(Fields v, Problems problems, Fields anchor) {
        YamlNode.Mark at = anchor.mark();
        String addressText = v == null ? null : v.string("address").orElse(null);
        YamlNode.Mark addressMark = v == null ? at : v.markOf("address");
        if (addressText == null) addressText = env.getOrDefault("VAULT_ADDR", DEFAULT_ADDRESS);
        URI address = null;
        try {
            address = new URI(addressText.strip());
            boolean unix = "unix".equals(address.getScheme()) && address.getPath() != null && address.getPath().startsWith("/");
            if (!unix && (!"http".equals(address.getScheme()) && !"https".equals(address.getScheme()) || address.getHost() == null)) {
                problems.add(addressMark, "vault.address '" + addressText + "' is not an http(s) URL or a unix socket",
                        "write it like https://vault.example.com:8200, or unix:///run/vault/agent.sock");
                address = null;
            }
        } catch (URISyntaxException e) {
            problems.add(addressMark, "vault.address '" + addressText + "' is not a URL",
                    "write it like https://vault.example.com:8200");
        }
        Optional<String> namespace = v == null ? Optional.empty() : v.string("namespace");
        if (namespace.isEmpty()) namespace = Optional.ofNullable(env.get("VAULT_NAMESPACE")).filter(s -> !s.isBlank());

        VaultAuth auth;
        TlsSettings tls;
        if (v == null) {
            auth = tokenAuth(null, problems, at);
            tls = envTls();
        } else {
            Optional<Fields> a = v.object("auth");
            auth = a.isPresent() ? auth(a.get()) : v.has("auth") ? null : tokenAuth(null, problems, v.mark());
            Optional<Fields> t = v.object("tls");
            tls = t.isPresent() ? tls(t.get()) : v.has("tls") ? null : envTls();
        }

        Duration connect = Duration.ofSeconds(5);
        Duration request = Duration.ofSeconds(30);
        Retrier.Backoff retry = Retrier.Backoff.of(io.keyward.policy.Backoffs.VAULT);
        int maxConnections = VaultSettings.DEFAULT_MAX_CONNECTIONS;
        if (v != null) {
            maxConnections = v.integer("max_connections", maxConnections, 1, 256);
            Optional<Fields> t = v.object("timeouts");
            if (t.isPresent()) {
                connect = t.get().duration("connect", connect, Duration.ofMillis(100), Duration.ofMinutes(5));
                request = t.get().duration("request", request, Duration.ofMillis(100), Duration.ofMinutes(10));
                t.get().finish();
            }
            Optional<Fields> r = v.object("retry");
            if (r.isPresent()) {
                for (String old : java.util.List.of("initial_backoff", "max_backoff")) { // has() also marks it known
                    if (r.get().has(old)) {
                        problems.add(r.get().markOf(old), "vault.retry." + old + " is now written as in the policy",
                                "write backoff: { initial: 250ms, max: 5s } beside attempts");
                    }
                }
                retry = Retrier.Backoff.of(io.keyward.policy.Backoffs.read(r.get(), io.keyward.policy.Backoffs.VAULT));
                r.get().finish();
            }
            v.finish();
        }
        if (address == null || auth == null || tls == null) {
            return null;
        }
        try {
            return new VaultSettings(address, namespace, auth, tls, connect, request, retry, maxConnections);
        } catch (IllegalArgumentException e) {
            problems.add(at, "vault: " + e.getMessage(), null);
            return null;
        }
    }

    private VaultAuth auth(Fields a) {
        Method method = a.choice("method", Method.class).orElse(Method.TOKEN);
        VaultAuth auth;
        switch (method) {
            case APPROLE -> {
                String mount = a.string("mount", "approle");
                Optional<Path> role = expand(a, "role_id_file");
                Optional<Path> secret = expand(a, "secret_id_file");
                if (role.isEmpty()) a.problems().add(a.mark(), "vault.auth.role_id_file is missing",
                        "AppRole needs role_id_file and secret_id_file");
                if (secret.isEmpty()) a.problems().add(a.mark(), "vault.auth.secret_id_file is missing",
                        "AppRole needs role_id_file and secret_id_file; under systemd use ${CREDENTIALS_DIRECTORY}/vault-secret-id");
                auth = role.isPresent() && secret.isPresent() ? new VaultAuth.AppRole(mount, role.get(), secret.get()) : null;
            }
            case KUBERNETES -> {
                String mount = a.string("mount", "kubernetes");
                String role = a.requiredString("role", "name the Vault Kubernetes role to log in as");
                Path jwt = expand(a, "jwt_file").orElse(Path.of("/var/run/secrets/kubernetes.io/serviceaccount/token"));
                auth = role == null ? null : new VaultAuth.Kubernetes(mount, role, jwt);
            }
            case JWT -> {
                String mount = a.string("mount", "jwt");
                String role = a.requiredString("role", "name the role of the Vault jwt auth mount to log in as");
                Optional<Path> jwt = expand(a, "jwt_file");
                if (jwt.isEmpty()) a.problems().add(a.mark(), "vault.auth.jwt_file is missing",
                        "jwt auth reads the identity token from a file at every login, like /var/run/secrets/tokens/vault");
                auth = role == null || jwt.isEmpty() ? null : new VaultAuth.Jwt(mount, role, jwt.get());
            }
            case CERT -> {
                String mount = a.string("mount", "cert");
                auth = new VaultAuth.Cert(mount);
            }
            default -> {
                auth = tokenAuth(a, a.problems(), a.mark());
            }
        }
        a.finish();
        return auth;
    }

    private VaultAuth tokenAuth(Fields a, Problems problems, YamlNode.Mark at) {
        Optional<Path> file = a == null ? Optional.empty() : expand(a, "token_file");
        Optional<String> token = a == null ? Optional.empty() : a.string("token");
        if (token.isEmpty()) token = Optional.ofNullable(env.get("VAULT_TOKEN")).filter(s -> !s.isBlank());
        if (file.isEmpty() && token.isEmpty()) {
            problems.add(at, "no Vault token: token auth needs vault.auth.token_file, vault.auth.token or VAULT_TOKEN",
                    "or choose another vault.auth.method (approle, kubernetes, jwt, cert)");
            return null;
        }
        return new VaultAuth.Token(file.isPresent() ? Optional.empty() : token, file);
    }

    private TlsSettings tls(Fields t) {
        Optional<Path> ca = expand(t, "ca_file").or(() -> envPath("VAULT_CACERT"));
        Optional<Path> cert = expand(t, "client_cert_file");
        Optional<Path> key = expand(t, "client_key_file");
        Optional<String> name = t.string("server_name").or(() -> envText("VAULT_TLS_SERVER_NAME"));
        boolean skip = t.bool("skip_verify", false);
        t.finish();
        if (cert.isEmpty() && key.isEmpty()) {
            cert = envPath("VAULT_CLIENT_CERT");
            key = envPath("VAULT_CLIENT_KEY");
        }
        if (cert.isPresent() != key.isPresent()) {
            t.problems().add(t.mark(), "vault.tls needs both client_cert_file and client_key_file (or VAULT_CLIENT_CERT"
                    + " and VAULT_CLIENT_KEY), or neither", null);
            return null;
        }
        return new TlsSettings(ca, cert, key, skip, name);
    }

    /** No {@code vault.tls} in the file: what Vault's own variables say. */
    private TlsSettings envTls() {
        Optional<Path> cert = envPath("VAULT_CLIENT_CERT");
        Optional<Path> key = envPath("VAULT_CLIENT_KEY");
        if (cert.isPresent() != key.isPresent()) {
            cert = Optional.empty(); // one of the two alone: the login that needs them says what is missing
            key = Optional.empty();
        }
        return new TlsSettings(envPath("VAULT_CACERT"), cert, key, false, envText("VAULT_TLS_SERVER_NAME"));
    }

    private Optional<String> envText(String name) {
        return Optional.ofNullable(env.get(name)).map(String::strip).filter(s -> !s.isEmpty());
    }

    private Optional<Path> envPath(String name) {
        return envText(name).map(Path::of);
    }

    private Optional<Path> expand(Fields f, String key) {
        Optional<String> raw = f.string(key);
        if (raw.isEmpty()) return Optional.empty();
        Matcher m = VAR.matcher(raw.get());
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String value = env.get(m.group(1));
            if (value == null) {
                f.problems().add(f.markOf(key), f.where() + "." + key + " uses ${" + m.group(1) + "}, which is not set",
                        "set it in the environment (systemd sets CREDENTIALS_DIRECTORY with LoadCredential=)");
                return Optional.empty();
            }
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        m.appendTail(out);
        if (out.toString().isBlank()) {
            f.problems().add(f.markOf(key), f.where() + "." + key + " is empty", "give a file path");
            return Optional.empty();
        }
        return Optional.of(Path.of(out.toString()));
    }

    private static SecretPath secretPath(String mount, String path, Fields f) {
        try {
            return SecretPath.of(mount, path);
        } catch (IllegalArgumentException e) {
            f.problems().add(f.mark(), "state: " + e.getMessage(), null);
            return SecretPath.of("secret", "keyward");
        }
    }
}
