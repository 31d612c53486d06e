package io.keyward.vault;

import io.keyward.rotation.AuditEvent;
import io.keyward.rotation.AuditLog;
import io.keyward.rotation.CasConflictException;
import io.keyward.rotation.Fingerprinter;
import io.keyward.rotation.Retrier;
import io.keyward.rotation.SecretData;
import io.keyward.rotation.SecretMetadata;
import io.keyward.rotation.SecretPath;
import io.keyward.rotation.SecretStore;
import io.keyward.rotation.Sleeper;
import io.keyward.rotation.StoreException;
import io.keyward.rotation.VersionGoneException;
import io.keyward.rotation.VersionedSecret;
import java.io.IOException;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * keyward's Vault adapter: a {@link SecretStore} over KV v2 plus token lifecycle. Every call
 * writes one audit event (values as fingerprints, the token as its accessor). Reads, lists and
 * other repeatable calls are retried with backoff; writes only when the request was never sent.
 */
public final class VaultClient implements SecretStore, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(VaultClient.class);
    private static final String CAS_MISMATCH = "check-and-set parameter did not match";

    private final VaultSettings settings;
    private final Transport transport;
    private final TokenKeeper keeper;
    private final Login login;
    private final AuditLog audit;
    private final Fingerprinter fingerprints;
    private final Clock clock;
    private final Retrier retrier;

    private VaultClient(VaultSettings settings, Transport transport, AuditLog audit, Fingerprinter fingerprints,
                        Clock clock, Sleeper sleeper) {
        this.settings = settings;
        this.transport = transport;
        this.audit = audit;
        this.fingerprints = fingerprints;
        this.clock = clock;
        this.retrier = new Retrier(settings.retry(), sleeper, () -> ThreadLocalRandom.current().nextDouble());
        this.login = new Login(settings.auth(), transport, clock);
        this.keeper = new TokenKeeper(new TokenKeeper.Operations() {
            @Override
            public TokenState login() throws VaultAccessException {
                return auditedLogin();
            }

            @Override
            public TokenState renew(TokenState current, Duration increment) throws VaultAccessException {
                return auditedRenew(current, increment);
            }
        }, settings.retry(), () -> ThreadLocalRandom.current().nextDouble());
    }

    /**
     * Builds the shared HTTP client, logs in (retrying what may pass on a repeat) and starts token
     * renewal. Fails with a {@link VaultAccessException} naming the address and what went wrong.
     */
    public static VaultClient connect(VaultSettings settings, AuditLog audit, Fingerprinter fingerprints,
                                      Clock clock) throws VaultAccessException {
        return connect(settings, audit, fingerprints, clock, Sleeper.system());
    }

    public static VaultClient connect(VaultSettings settings, AuditLog audit, Fingerprinter fingerprints,
                                      Clock clock, Sleeper sleeper) throws VaultAccessException {
        Tls.Material tls = Tls.build(settings.tls(), settings.address().toString());
        if (settings.tls().skipVerify()) {
            LOG.warn("TLS verification towards Vault at {} is OFF (vault.tls.skip_verify: true): "
                    + "anyone on the network path can read every secret keyward handles", settings.address());
        }
        Transport transport = new Transport(settings, tls.context());
        VaultClient client = new VaultClient(settings, transport, audit, fingerprints, clock, sleeper);
        try {
            TokenState s = client.keeper.start(client.retrier);
            LOG.info("logged in to Vault at {} by {} (token accessor {}, ttl {})", settings.address(),
                    settings.auth().method(), s.accessor(), s.ttl().isZero() ? "none" : s.ttl().toSeconds() + "s");
            return client;
        } catch (VaultAccessException e) {
            client.close();
            throw e;
        }
    }

    public VaultSettings settings() {
        return settings;
    }

    /** What may be shown of the current token. */
    public TokenInfo token() {
        TokenState s = keeper.current();
        return new TokenInfo(s.accessor(), s.ttl(), s.renewable(), s.expiresAt());
    }

    /** The shown part of a token: accessor, TTL as last seen, and expiry (empty for no TTL). */
    public record TokenInfo(String accessor, Duration ttl, boolean renewable, Optional<Instant> expiresAt) {}

    // ---- SecretStore -------------------------------------------------------------------------

    @Override
    public Optional<VersionedSecret> read(SecretPath path) throws StoreException {
        return readVersion(path, 0);
    }

    @Override
    public Optional<VersionedSecret> read(SecretPath path, int version) throws StoreException {
        if (version < 1) throw new IllegalArgumentException("version must be 1 or more, was " + version);
        return readVersion(path, version);
    }

    private Optional<VersionedSecret> readVersion(SecretPath path, int version) throws StoreException {
        String api = path.mount() + "/data/" + path.path() + (version > 0 ? "?version=" + version : "");
        AuditEvent.Builder event = AuditEvent.of("vault.read").path(path).version(version > 0 ? version : null);
        return audited(event, () -> {
            Transport.Reply r = idempotent(v -> transport.get(v, "read", api));
            JsonNode meta = r.body().path("data").path("metadata");
            if (r.status() == 404) {
                if (meta.isObject() && (meta.path("destroyed").asBoolean(false)
                        || !meta.path("deletion_time").asString("").isEmpty())) {
                    int gone = meta.path("version").asInt(version);
                    event.version(gone).outcome(AuditEvent.Outcome.NOT_FOUND)
                            .attribute("state", meta.path("destroyed").asBoolean(false) ? "destroyed" : "deleted");
                    throw new VersionGoneException(path, gone, meta.path("destroyed").asBoolean(false));
                }
                event.outcome(AuditEvent.Outcome.NOT_FOUND);
                return Optional.empty();
            }
            requireOk("read", api, r);
            SecretData data = SecretData.of(toMap(r.body().path("data").path("data")));
            int v = meta.path("version").asInt();
            event.version(v).fingerprint(fingerprints.of(data));
            java.util.Map<String, String> custom = new java.util.HashMap<>();
            meta.path("custom_metadata").properties().forEach(e -> custom.put(e.getKey(), e.getValue().asString("")));
            return Optional.of(new VersionedSecret(path, v, data, instant(meta.path("created_time")), custom));
        });
    }

    @Override
    public int write(SecretPath path, SecretData data, OptionalInt expectedVersion) throws StoreException {
        String api = path.mount() + "/data/" + path.path();
        AuditEvent.Builder event = AuditEvent.of("vault.write").path(path).fingerprint(fingerprints.of(data));
        expectedVersion.ifPresent(v -> event.attribute("cas", v));
        return audited(event, () -> {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("data", data.fields());
            if (expectedVersion.isPresent()) {
                body.put("options", Map.of("cas", expectedVersion.getAsInt()));
            }
            Transport.Reply r = notSentOnly(v -> transport.post(v, "write", api, body, texts(data)));
            if (r.status() == 400 && Transport.errors(r.body()).contains(CAS_MISMATCH)) {
                // a standby redirected the write after its forwarding failed: the version that is
                // in the way may be this very write, carried out through the failed forwarding
                if (r.forwarded()) throw transport.failure("write", api, r, texts(data));
                event.outcome(AuditEvent.Outcome.CONFLICT);
                throw new CasConflictException(path, expectedVersion.orElse(-1), "Vault: " + CAS_MISMATCH);
            }
            requireOk("write", api, r, texts(data));
            int v = r.body().path("data").path("version").asInt(0);
            if (v < 1) {
                throw new VaultAccessException("write", transport.address(), api, r.status(),
                        "the answer carried no version number (is " + path.mount() + " a KV v2 mount?)", false, null);
            }
            event.version(v);
            return v;
        });
    }

    @Override
    public Optional<SecretMetadata> metadata(SecretPath path) throws StoreException {
        String api = path.mount() + "/metadata/" + path.path();
        AuditEvent.Builder event = AuditEvent.of("vault.metadata.read").path(path);
        return audited(event, () -> {
            Transport.Reply r = idempotent(v -> transport.get(v, "metadata read", api));
            if (r.status() == 404) {
                event.outcome(AuditEvent.Outcome.NOT_FOUND);
                return Optional.empty();
            }
            requireOk("metadata read", api, r);
            JsonNode d = r.body().path("data");
            TreeMap<Integer, SecretMetadata.VersionState> versions = new TreeMap<>();
            for (Map.Entry<String, JsonNode> e : d.path("versions").properties()) {
                JsonNode s = e.getValue();
                String deleted = s.path("deletion_time").asString("");
                versions.put(Integer.parseInt(e.getKey()), new SecretMetadata.VersionState(
                        instant(s.path("created_time")),
                        deleted.isEmpty() ? Optional.empty() : Optional.of(instant(s.path("deletion_time"))),
                        s.path("destroyed").asBoolean(false)));
            }
            Map<String, String> custom = new HashMap<>();
            for (Map.Entry<String, JsonNode> e : d.path("custom_metadata").properties()) {
                custom.put(e.getKey(), e.getValue().asString(""));
            }
            int current = d.path("current_version").asInt(0);
            event.version(current);
            return Optional.of(new SecretMetadata(path, current, d.path("oldest_version").asInt(0),
                    instant(d.path("created_time")), instant(d.path("updated_time")),
                    d.path("max_versions").asInt(0), d.path("cas_required").asBoolean(false), versions, custom));
        });
    }

    @Override
    public void writeCustomMetadata(SecretPath path, Map<String, String> custom) throws StoreException {
        String api = path.mount() + "/metadata/" + path.path();
        AuditEvent.Builder event = AuditEvent.of("vault.metadata.write").path(path)
                .attribute("keys", String.join(",", new TreeMap<>(custom).keySet()));
        audited(event, () -> {
            Transport.Reply r = idempotent(v -> transport.post(v, "metadata write", api, Map.of("custom_metadata", custom), List.of()));
            requireOk("metadata write", api, r);
            return null;
        });
    }

    @Override
    public List<String> list(SecretPath folder) throws StoreException {
        String api = folder.mount() + "/metadata/" + folder.path();
        AuditEvent.Builder event = AuditEvent.of("vault.list").path(folder);
        return audited(event, () -> {
            Transport.Reply r = idempotent(v -> transport.list(v, "list", api));
            if (r.status() == 404) {
                event.outcome(AuditEvent.Outcome.NOT_FOUND);
                return List.of();
            }
            requireOk("list", api, r);
            List<String> keys = new ArrayList<>();
            r.body().path("data").path("keys").forEach(k -> keys.add(k.asString()));
            event.attribute("count", keys.size());
            return List.copyOf(keys);
        });
    }

    @Override
    public void deleteVersions(SecretPath path, Collection<Integer> versions) throws StoreException {
        String api = path.mount() + "/delete/" + path.path();
        List<Integer> list = List.copyOf(versions);
        AuditEvent.Builder event = AuditEvent.of("vault.delete").path(path)
                .attribute("versions", list.toString().replace(" ", ""));
        audited(event, () -> {
            Transport.Reply r = idempotent(v -> transport.post(v, "delete", api, Map.of("versions", list), List.of()));
            requireOk("delete", api, r);
            return null;
        });
    }

    @Override
    public void deleteAll(SecretPath path) throws StoreException {
        String api = path.mount() + "/metadata/" + path.path();
        AuditEvent.Builder event = AuditEvent.of("vault.delete").path(path).attribute("versions", "all");
        audited(event, () -> {
            Transport.Reply r = idempotent(v -> transport.delete(v, "delete", api));
            if (r.status() != 404) requireOk("delete", api, r);
            return null;
        });
    }

    // ---- beyond SecretStore ------------------------------------------------------------------

    /** Reads a KV version 1 secret ({@code <mount>/<path>}); empty if absent. */
    public Optional<SecretData> readKv1(SecretPath path) throws StoreException {
        String api = path.mount() + "/" + path.path();
        AuditEvent.Builder event = AuditEvent.of("vault.read").path(path).attribute("kv", "1");
        return audited(event, () -> {
            Transport.Reply r = idempotent(v -> transport.get(v, "read", api));
            if (r.status() == 404) {
                event.outcome(AuditEvent.Outcome.NOT_FOUND);
                return Optional.empty();
            }
            requireOk("read", api, r);
            SecretData data = SecretData.of(toMap(r.body().path("data")));
            event.fingerprint(fingerprints.of(data));
            return Optional.of(data);
        });
    }

    /** The KV version of a mount (1 or 2), as Vault reports it to this token. */
    public int kvVersion(String mount) throws StoreException {
        String api = "sys/internal/ui/mounts/" + mount;
        AuditEvent.Builder event = AuditEvent.of("vault.mount.read").path(mount);
        return audited(event, () -> {
            Transport.Reply r = idempotent(v -> transport.get(v, "mount lookup", api));
            requireOk("mount lookup", api, r);
            JsonNode d = r.body().path("data");
            if (!"kv".equals(d.path("type").asString(""))) {
                throw new VaultAccessException("mount lookup", transport.address(), api, r.status(),
                        mount + " is a '" + d.path("type").asString("?") + "' mount, not a KV mount", false, null);
            }
            int version = d.path("options").path("version").asInt(1);
            event.attribute("kv", version);
            return version;
        });
    }

    /** Looks the current token up again (refreshing what {@link #token()} shows). */
    public TokenInfo lookupToken() throws StoreException {
        AuditEvent.Builder event = AuditEvent.of("vault.token.lookup").path("auth/token/lookup-self");
        audited(event, () -> {
            TokenState s = keeper.current();
            TokenState fresh = retrier.call(() -> login.lookup(s.token(), s.viaLogin()),
                    e -> e instanceof VaultAccessException v && v.retryable());
            event.attribute("accessor", fresh.accessor());
            return fresh;
        });
        return token();
    }

    /**
     * What this token may do on each path ({@code sys/capabilities-self}): the capabilities Vault
     * names per path ("root" for all of them, "deny" for none). Reads no secret.
     */
    public Map<String, Set<String>> capabilities(List<String> paths) throws StoreException {
        String api = "sys/capabilities-self";
        AuditEvent.Builder event = AuditEvent.of("vault.capabilities").path(api).attribute("paths", paths.size());
        return audited(event, () -> {
            Transport.Reply r = idempotent(v -> transport.post(v, "capabilities lookup", api, Map.of("paths", paths), List.of()));
            requireOk("capabilities lookup", api, r);
            JsonNode d = r.body().path("data").isObject() ? r.body().path("data") : r.body();
            Map<String, Set<String>> out = new LinkedHashMap<>();
            for (String p : paths) {
                Set<String> caps = new java.util.TreeSet<>();
                d.path(p).forEach(c -> caps.add(c.asString()));
                out.put(p, Set.copyOf(caps));
            }
            return out;
        });
    }

    /**
     * Whether Vault answers its health endpoint (unsealed, active or standby): empty when it does,
     * else why not. Not audited: it reads no secret. Used by the readiness probe.
     */
    public Optional<String> reachable() {
        try {
            Transport.Reply r = transport.getHere(keeper.current().token(), "health", "sys/health");
            return r.status() == 200 || r.status() == 429 || r.status() == 473 ? Optional.empty()
                    : Optional.of("Vault at " + settings.address() + " answers health checks with " + r.status());
        } catch (VaultAccessException e) {
            return Optional.of("Vault unreachable: " + e.getMessage());
        } catch (RuntimeException e) {
            return Optional.of("Vault unreachable: " + e.getClass().getSimpleName());
        }
    }

    /** The node that answers at the configured address, as {@code sys/leader} describes it. */
    public record Node(boolean ha, boolean active, String activeAddress, boolean sendsIndex) {
        /** One line for an operator: single node, active node or standby, and whether reads stay consistent. */
        public String describe() {
            String role = !ha ? "a single node (no HA)" : active ? "the active node of a cluster"
                    : "a standby of a cluster" + (activeAddress.isEmpty() ? " that knows no active node now"
                    : " whose active node is " + activeAddress);
            return role + (sendsIndex ? "; sends X-Vault-Index, so reads never show less than keyward saw"
                    : ha ? "; sends no X-Vault-Index, so a read right after a write may show an older state" : "");
        }
    }

    /** Asks the node at the configured address what it is ({@code sys/leader}; not audited, it reads no secret). */
    public Node node() throws VaultAccessException {
        Transport.Reply r = transport.getHere(keeper.current().token(), "leader lookup", "sys/leader");
        if (!r.ok()) throw transport.failure("leader lookup", "sys/leader", r, List.of());
        JsonNode b = r.body();
        return new Node(b.path("ha_enabled").asBoolean(false), b.path("is_self").asBoolean(false),
                b.path("leader_address").asString(""), transport.indexSeen());
    }

    @Override
    public void close() {
        keeper.close();
        transport.close();
    }

    /** The most connections to Vault this client had open at one moment (at most {@code vault.max_connections}). */
    public int peakConnections() {
        return transport.peakConnections();
    }

    @Override
    public String toString() {
        return "VaultClient[" + settings.address() + ", auth=" + settings.auth().method() + "]";
    }

    // ---- plumbing ----------------------------------------------------------------------------

    @FunctionalInterface
    private interface Call<T> {
        T run() throws IOException;
    }

    @FunctionalInterface
    private interface WithDriver {
        Transport.Reply run(String token) throws VaultAccessException;
    }

    private TokenState auditedLogin() throws VaultAccessException {
        AuditEvent.Builder event = AuditEvent.of("vault.login").path(login.loginPath())
                .attribute("method", login.method());
        try {
            return audited(event, () -> {
                TokenState s = login.login();
                event.attribute("accessor", s.accessor()).attribute("ttl_s", s.ttl().toSeconds());
                return s;
            });
        } catch (VaultAccessException e) {
            throw e;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private TokenState auditedRenew(TokenState current, Duration increment) throws VaultAccessException {
        AuditEvent.Builder event = AuditEvent.of("vault.renew").path("auth/token/renew-self")
                .attribute("accessor", current.accessor());
        try {
            return audited(event, () -> {
                TokenState s = login.renew(current, increment);
                event.attribute("ttl_s", s.ttl().toSeconds());
                return s;
            });
        } catch (VaultAccessException e) {
            throw e;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private <T> T audited(AuditEvent.Builder event, Call<T> call) throws StoreException {
        Instant start = clock.instant();
        TokenState s = keeper.current();
        if (s != null) event.attribute("accessor", s.accessor());
        try {
            T result = call.run();
            audit.record(event.duration(Duration.between(start, clock.instant())).build());
            return result;
        } catch (VersionGoneException | CasConflictException e) {
            audit.record(event.duration(Duration.between(start, clock.instant())).build());
            throw e;
        } catch (VaultAccessException e) {
            audit.record(event.outcome(e.denied() ? AuditEvent.Outcome.DENIED
                            : e.outcomeUnknown() ? AuditEvent.Outcome.UNKNOWN : AuditEvent.Outcome.FAILED)
                    .attribute("status", e.status()).attribute("error", e.getMessage())
                    .duration(Duration.between(start, clock.instant())).build());
            throw e;
        } catch (StoreException e) {
            audit.record(event.outcome(AuditEvent.Outcome.FAILED).attribute("error", e.getMessage())
                    .duration(Duration.between(start, clock.instant())).build());
            throw e;
        } catch (IOException e) {
            audit.record(event.outcome(AuditEvent.Outcome.FAILED)
                    .duration(Duration.between(start, clock.instant())).build());
            throw new StoreException("Vault call failed: " + e.getClass().getSimpleName(), e);
        }
    }

    /** A call that is safe to repeat: retried on transient failures; one re-login after a stale-token denial. */
    private Transport.Reply idempotent(WithDriver call) throws StoreException {
        return withToken(call, e -> e instanceof VaultAccessException v && v.retryable());
    }

    /** A call that must not be repeated once sent: retried only when the connection never opened. */
    private Transport.Reply notSentOnly(WithDriver call) throws StoreException {
        return withToken(call, e -> e instanceof VaultAccessException v && v.neverSent());
    }

    private Transport.Reply withToken(WithDriver call, Predicate<IOException> retryable) throws StoreException {
        try {
            TokenState used = keeper.current();
            Transport.Reply r = retrier.call(() -> call.run(used.token()), retryable);
            if (r.status() == 403 && tokenExpired(used)) {
                TokenState fresh = keeper.relogin();
                LOG.info("vault denied a call with an expired token; logged in again (accessor {})", fresh.accessor());
                r = retrier.call(() -> call.run(fresh.token()), retryable);
            }
            return r;
        } catch (StoreException e) {
            throw e;
        } catch (IOException e) {
            throw new StoreException("Vault call failed: " + e.getClass().getSimpleName(), e);
        }
    }

    /** True when the token that was just denied is no longer valid (so a new login may help). */
    private boolean tokenExpired(TokenState used) {
        if (used != keeper.current()) {
            return false;
        }
        try {
            login.lookup(used.token(), used.viaLogin());
            return false;
        } catch (VaultAccessException e) {
            return e.denied();
        }
    }

    private void requireOk(String op, String api, Transport.Reply r) throws VaultAccessException {
        requireOk(op, api, r, List.of());
    }

    private void requireOk(String op, String api, Transport.Reply r, Collection<String> hide)
            throws VaultAccessException {
        if (!r.ok()) {
            throw transport.failure(op, api, r, hide);
        }
    }

    private static Map<String, Object> toMap(JsonNode node) {
        if (node == null || !node.isObject()) return Map.of();
        @SuppressWarnings("unchecked")
        Map<String, Object> m = Transport.JSON.treeToValue(node, Map.class);
        return m;
    }

    /** Every text value in a secret, so that none can reach an error message. */
    private static List<String> texts(SecretData data) {
        List<String> out = new ArrayList<>();
        collect(data.fields(), out);
        return out;
    }

    private static void collect(Object v, List<String> out) {
        if (v instanceof Map<?, ?> m) m.values().forEach(x -> collect(x, out));
        else if (v instanceof List<?> l) l.forEach(x -> collect(x, out));
        else if (v != null) out.add(v.toString());
    }

    private static Instant instant(JsonNode n) {
        String s = n == null ? "" : n.asString("");
        if (s.isEmpty()) return Instant.EPOCH;
        try {
            return Instant.parse(s);
        } catch (DateTimeParseException e) {
            return Instant.EPOCH;
        }
    }
}
