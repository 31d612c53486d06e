package io.keyward.policy;

import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.DateTimeException;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/** Reads and validates policy.yaml; every rule reports at the place it concerns. */
final class PolicyReader {

    private static final Pattern ID = Pattern.compile("[a-z0-9][a-z0-9._-]{0,62}");
    private static final Pattern FIELD = Pattern.compile("[A-Za-z_][A-Za-z0-9_.-]{0,127}");
    private static final Pattern HOURS = Pattern.compile("(\\d{2}:\\d{2})-(\\d{2}:\\d{2})");
    private static final Duration MIN_EVERY = Duration.ofMinutes(1);
    private static final Pattern PLACEHOLDER = Pattern.compile("\\{\\{\\s*([A-Za-z0-9_.-]+)\\s*}}");
    private static final Set<String> TEMPLATE_WORDS = Set.of("secret_id", "version");
    private static final Pattern ACCOUNT = Pattern.compile("[a-z_][a-z0-9_-]{0,31}\\$?|[0-9]{1,10}");

    enum GeneratorType { RANDOM, COMMAND, ISSUER }

    enum IssuerType { COMMAND, DOCBITS }

    enum TargetType { FILE, WEBHOOK, EXEC, DOCBITS }

    enum VerifyType { COMMAND, DOCBITS }

    private final Problems problems = new Problems();
    private ZoneId defaultZone = ZoneId.of("UTC");
    private Duration defaultGrace = Duration.ofHours(1);
    private Policy.RetrySpec defaultRetry = Backoffs.STEPS;
    private Duration defaultRetryCap = RETRY_CAP;
    /** The longest wait between attempts after rotations that rolled back. */
    static final Duration RETRY_CAP = Duration.ofHours(6);
    private Optional<Duration> defaultWatch = Optional.of(Duration.ofMinutes(5));
    private Policy.Restarts restarts = Policy.Restarts.DEFAULT;
    /** Every secret id the policy names, including secrets with problems (so they are not also "not defined"). */
    private final Map<String, YamlNode.Mark> declaredSecrets = new HashMap<>();
    /** Every file a secret's target writes, with where. */
    private final Map<Path, YamlNode.Mark> fileTargets = new HashMap<>();
    /** Every issuer name the policy defines, including ones with problems (so they are not also "not defined"). */
    private final Set<String> declaredIssuers = new java.util.HashSet<>();

    Policy read(YamlNode root, Path source) throws ConfigException {
        Fields top = Fields.of(root, "policy", problems).orElse(null);
        if (top == null) {
            problems.throwIfAny();
        }
        top.object("defaults").ifPresent(this::defaults);
        Map<String, Policy.IssuerSpec> issuers = issuers(top);
        List<Policy.SecretPolicy> secrets = new ArrayList<>();
        Optional<YamlNode> list = top.node("secrets");
        if (list.isEmpty()) {
            problems.add(top.mark(), "the policy has no 'secrets' list", "add 'secrets:' with at least one secret");
        } else if (!(list.get() instanceof YamlNode.Sequence seq)) {
            problems.add(list.get().mark(), "secrets must be a list, not " + list.get().kind(), "start each secret with '- id: ...'");
        } else if (seq.items().isEmpty()) {
            problems.add(seq.mark(), "the secrets list is empty", "add at least one secret");
        } else {
            Map<String, YamlNode.Mark> ids = declaredSecrets;
            Map<String, YamlNode.Mark> paths = new HashMap<>();
            Map<Path, YamlNode.Mark> files = fileTargets;
            for (int i = 0; i < seq.items().size(); i++) {
                YamlNode item = seq.items().get(i);
                Optional<Fields> f = Fields.of(item, "secrets[" + i + "]", problems);
                if (f.isEmpty()) continue;
                Optional<String> id = f.get().string("id");
                Optional<String> path = f.get().string("path");
                String mount = f.get().string("mount", "secret");
                if (id.isPresent()) {
                    YamlNode.Mark at = f.get().markOf("id");
                    YamlNode.Mark firstId = ids.putIfAbsent(id.get(), at);
                    if (firstId != null) {
                        problems.add(at, "secret id '" + id.get() + "' is used twice (first at line " + firstId.line() + ")",
                                "give every secret its own id");
                    }
                }
                if (path.isPresent()) {
                    String vaultPath = mount + "/" + path.get();
                    YamlNode.Mark firstPath = paths.putIfAbsent(vaultPath, f.get().markOf("path"));
                    if (firstPath != null) {
                        problems.add(f.get().markOf("path"), "two secrets on one Vault path " + vaultPath
                                + " (first at line " + firstPath.line() + ")", "each secret needs its own path");
                    }
                }
                Policy.SecretPolicy s = secret(f.get(), issuers);
                if (s == null) continue;
                for (Policy.TargetSpec t : s.targets()) {
                    if (t instanceof Policy.TargetSpec.File file) {
                        YamlNode.Mark firstFile = files.putIfAbsent(file.path().normalize(), f.get().markOf("targets"));
                        if (firstFile != null) {
                            problems.add(f.get().markOf("targets"), "file " + file.path() + " is a target of two secrets"
                                    + " (first at line " + firstFile.line() + ")", "deliver each secret to its own file");
                        }
                    }
                }
                secrets.add(s);
            }
        }
        Optional<Policy.Notify> notify = top.object("notify").map(this::notify);
        List<Policy.SharedFile> shared = files(top, secrets, declaredSecrets, fileTargets);
        top.finish();
        problems.throwIfAny();
        return new Policy(source, issuers, secrets, restarts, notify, shared);
    }

    private void defaults(Fields d) {
        zone(d, "zone").ifPresent(z -> defaultZone = z);
        defaultGrace = nonNegative(d, "grace").orElse(defaultGrace);
        defaultRetry = retry(d, defaultRetry);
        defaultRetryCap = retryCap(d, defaultRetryCap);
        defaultWatch = watch(d, defaultWatch);
        d.object("restarts").ifPresent(r -> {
            int atOnce = r.integer("at_once", Policy.Restarts.DEFAULT.atOnce(), 1, 1000);
            Duration splay = r.duration("splay", Policy.Restarts.DEFAULT.splay(), Duration.ZERO, Duration.ofHours(1));
            r.finish();
            restarts = new Policy.Restarts(atOnce, splay);
        });
        d.finish();
    }

    /** How often a DocBits key's live value is tried against DocBits ({@code probe_every}, default 1m; {@code off}). */
    private Optional<Duration> probe(Fields f, String where, boolean docbitsKey) {
        Optional<String> text = f.string("probe_every");
        if (!docbitsKey) {
            if (text.isPresent()) {
                problems.add(f.markOf("probe_every"), where + ": probe_every applies to keys of a DocBits issuer only",
                        "remove it, or give the secret a DocBits issuer");
            }
            return Optional.empty();
        }
        if (text.isPresent() && (text.get().strip().equalsIgnoreCase("off") || text.get().strip().equalsIgnoreCase("false"))) {
            return Optional.empty();
        }
        return Optional.of(f.duration("probe_every", Duration.ofMinutes(1), Duration.ofSeconds(1), Duration.ofDays(1)));
    }

    /** {@code watch: 5m}, or {@code watch: off}. */
    private Optional<Duration> watch(Fields f, Optional<Duration> fallback) {
        Optional<String> text = f.string("watch");
        if (text.isEmpty()) return fallback;
        if (text.get().strip().equalsIgnoreCase("off") || text.get().strip().equalsIgnoreCase("false")) {
            return Optional.empty();
        }
        Duration d = f.duration("watch", Duration.ofMinutes(5), Duration.ofSeconds(1), Duration.ofDays(1));
        return Optional.of(d);
    }

    private Policy.Notify notify(Fields n) {
        java.net.URI url = url(n, "url", "give the https URL that receives keyward's notifications");
        Policy.VaultField key = vaultField(n, "signing_key", "hmac_key",
                "give the Vault path of the key that signs notifications, like { path: keyward/notify, field: hmac_key }");
        Set<Policy.NoticeKind> events = EnumSet.noneOf(Policy.NoticeKind.class);
        if (n.has("events")) {
            for (String e : n.strings("events")) {
                try {
                    events.add(Policy.NoticeKind.valueOf(e.strip().toUpperCase(Locale.ROOT)));
                } catch (IllegalArgumentException bad) {
                    problems.add(n.markOf("events"), "notify.events: '" + e + "' is not an event",
                            "use due, failed, degraded, revocable, emergency, rejected, dead");
                }
            }
        } else {
            events = EnumSet.allOf(Policy.NoticeKind.class);
        }
        Duration timeout = n.duration("timeout", Duration.ofSeconds(10), Duration.ofMillis(100), Duration.ofMinutes(5));
        n.finish();
        return url == null || key == null ? null : new Policy.Notify(url, key, events, timeout);
    }

    /** A { mount, path, field } mapping naming a field of a Vault secret. */
    private Policy.VaultField vaultField(Fields f, String key, String defaultField, String fix) {
        if (!f.has(key)) {
            problems.add(f.mark(), f.where() + " has no '" + key + "'", fix);
            return null;
        }
        return f.object(key).map(a -> {
            String mount = a.string("mount", "secret");
            String path = a.requiredString("path", fix);
            String field = a.string("field", defaultField);
            a.finish();
            return path == null ? null : new Policy.VaultField(mount, path, field);
        }).orElse(null);
    }

    private Map<String, Policy.IssuerSpec> issuers(Fields top) {
        Map<String, Policy.IssuerSpec> out = new LinkedHashMap<>();
        Optional<YamlNode> node = top.node("issuers");
        if (node.isEmpty()) return out;
        if (!(node.get() instanceof YamlNode.Mapping m)) {
            problems.add(node.get().mark(), "issuers must be a mapping of names to issuers, not " + node.get().kind(), null);
            return out;
        }
        for (Map.Entry<String, YamlNode> e : m.values().entrySet()) {
            String name = e.getKey();
            if (!ID.matcher(name).matches()) {
                problems.add(m.keys().get(name).mark(), "issuer name '" + name + "' is not valid",
                        "use lower-case letters, digits, '.', '_' and '-'");
            }
            declaredIssuers.add(name);
            Fields.of(e.getValue(), "issuers." + name, problems).ifPresent(f -> {
                Optional<IssuerType> type = f.choice("type", IssuerType.class);
                if (type.isEmpty() && !f.has("type")) {
                    problems.add(f.mark(), "issuers." + name + ".type is missing", "write 'type: command' or 'type: docbits'");
                }
                Duration timeout = f.duration("timeout", Duration.ofSeconds(30), Duration.ofMillis(100), Duration.ofMinutes(10));
                if (type.orElse(IssuerType.COMMAND) == IssuerType.DOCBITS) {
                    Policy.IssuerSpec d = docbitsIssuer(f, name, timeout);
                    f.finish();
                    if (d != null) out.put(name, d);
                    return;
                }
                List<String> issue = argv(f, "issue");
                List<String> revoke = argv(f, "revoke");
                List<String> accept = argv(f, "accept");
                if (f.has("type") && issue.isEmpty()) {
                    problems.add(f.mark(), "issuers." + name + " has no 'issue' command", "give the program that prints a new key");
                }
                if (f.has("type") && revoke.isEmpty()) {
                    problems.add(f.mark(), "issuers." + name + " has no 'revoke' command", "give the program that revokes a key read on standard input");
                }
                f.finish();
                out.put(name, new Policy.IssuerSpec.Command(name, issue, revoke, accept, timeout));
            });
        }
        return out;
    }

    private Policy.IssuerSpec docbitsIssuer(Fields f, String name, Duration timeout) {
        String where = "issuers." + name;
        Policy.DocBitsMode mode = f.choice("mode", Policy.DocBitsMode.class).orElse(Policy.DocBitsMode.API);
        java.net.URI base = url(f, "base_url", "give the DocBits host, like https://eu.api.docbits.com");
        String org = f.requiredString("org", "name the DocBits organisation (X-ORG-ID) the keys belong to");
        boolean api = mode == Policy.DocBitsMode.API;
        Optional<Policy.Endpoint> usage = f.object("usage").map(u -> endpoint(u, "GET", false));
        Optional<Policy.Usage> usageSpec = Optional.empty();
        if (usage.isPresent() && usage.get() != null) {
            String pointer = f.string("last_used_pointer", "/last_used_at");
            pointer(f, "last_used_pointer", pointer);
            Duration quiet = f.duration("quiet", Duration.ofMinutes(10), Duration.ZERO, Duration.ofDays(7));
            usageSpec = Optional.of(new Policy.Usage(usage.get(), pointer, quiet));
        }
        Optional<Policy.VaultField> auth = Optional.empty();
        if (api || f.has("auth") || usageSpec.isPresent()) {
            auth = Optional.ofNullable(vaultField(f, "auth", "api_key",
                    "give the Vault path of a DocBits key allowed to " + (api ? "create and revoke keys" : "read key usage")));
        }
        Optional<Policy.Endpoint> create = f.object("create").map(c -> endpoint(c, "POST", true));
        Optional<Policy.Endpoint> revoke = f.object("revoke").map(r -> endpoint(r, "POST", true));
        String pointer = f.string("key_pointer", "/key");
        pointer(f, "key_pointer", pointer);
        Duration notice = f.duration("notice", Duration.ofDays(7), Duration.ZERO, Duration.ofDays(365));
        Policy.DocBitsKeys keys = f.choice("keys", Policy.DocBitsKeys.class).orElse(Policy.DocBitsKeys.SEVERAL);
        if (api && keys == Policy.DocBitsKeys.SINGLE) {
            problems.add(f.markOf("keys"), where + ": keys: single needs mode: manual",
                    "an account with one key is regenerated by a person in DocBits' settings; write mode: manual");
        }
        if (api) {
            if (create.isEmpty() && !f.has("create")) {
                problems.add(f.mark(), where + " has no 'create' endpoint",
                        "DocBits documents none: give the method, path and body your deployment offers, or use mode: manual");
            }
            if (revoke.isEmpty() && !f.has("revoke")) {
                problems.add(f.mark(), where + " has no 'revoke' endpoint", "give the method, path and body that revoke a key");
            }
        } else {
            for (String k : List.of("create", "revoke")) {
                if (f.has(k)) {
                    problems.add(f.markOf(k), where + ": '" + k + "' has no use in mode manual",
                            "remove it, or use mode: api");
                }
            }
        }
        if (base == null || org == null || (auth.isEmpty() && (api || usageSpec.isPresent()))
                || (api && (create.isEmpty() || create.get() == null || revoke.isEmpty() || revoke.get() == null))) {
            return null;
        }
        return new Policy.IssuerSpec.DocBits(name, mode, base, org, auth, create, pointer, revoke, usageSpec, notice, timeout, keys);
    }

    private void pointer(Fields f, String key, String pointer) {
        if (!pointer.startsWith("/")) {
            problems.add(f.markOf(key), f.where() + "." + key + " '" + pointer + "' is not a JSON pointer",
                    "write it like /key or /data/key");
        }
    }

    private Policy.Endpoint endpoint(Fields e, String defaultMethod, boolean bodyAllowed) {
        String method = e.string("method", defaultMethod).toUpperCase(Locale.ROOT);
        if (!List.of("GET", "POST", "PUT", "PATCH", "DELETE").contains(method)) {
            problems.add(e.markOf("method"), e.where() + ".method '" + method + "' is not an HTTP method", "use POST, PUT, PATCH or DELETE");
        }
        String path = e.requiredString("path", "the endpoint's path, like /api_keys");
        if (path != null && !path.startsWith("/")) {
            problems.add(e.markOf("path"), e.where() + ".path '" + path + "' must start with /", null);
        }
        String body = bodyAllowed ? e.string("body", null) : null;
        e.finish();
        return path == null ? null : new Policy.Endpoint(method, path, body);
    }

    private java.net.URI url(Fields f, String key, String fix) {
        String text = f.requiredString(key, fix);
        if (text == null) return null;
        try {
            java.net.URI u = new java.net.URI(text.strip());
            if (!("https".equals(u.getScheme()) || "http".equals(u.getScheme())) || u.getHost() == null) {
                throw new java.net.URISyntaxException(text, "not http(s)");
            }
            return u;
        } catch (java.net.URISyntaxException e) {
            problems.add(f.markOf(key), f.where() + "." + key + " '" + text + "' is not an http(s) URL",
                    key.equals("base_url")
                            ? "production is https://api.docbits.com; EU https://eu.api.docbits.com; US https://us.api.docbits.com"
                            : "write it like https://host:port/path");
            return null;
        }
    }

    private Policy.SecretPolicy secret(Fields f, Map<String, Policy.IssuerSpec> issuers) {
        String id = f.requiredString("id", "give the secret a short id like payments-db");
        if (id != null && !ID.matcher(id).matches()) {
            problems.add(f.markOf("id"), "secret id '" + id + "' is not valid",
                    "use 1-63 lower-case letters, digits, '.', '_' and '-', starting with a letter or digit");
        }
        String where = id == null ? f.where() : "secret '" + id + "'";
        if (f.has("namespace")) {
            problems.add(f.markOf("namespace"), where + ": a secret has no namespace of its own: keyward reads every secret, "
                    + "and keeps its journal, in the namespace of its configuration (vault.namespace)",
                    "run one keyward per namespace, each with its own configuration and policy");
        }
        String mount = f.string("mount", "secret");
        String path = f.requiredString("path", "give the secret's path in Vault, like apps/payments/db");
        if (path != null) {
            try {
                io.keyward.policy.VaultPaths.check(mount, path);
            } catch (IllegalArgumentException e) {
                problems.add(f.markOf("path"), where + ": " + e.getMessage(), null);
            }
        }
        List<String> fields = f.has("fields") ? f.strings("fields") : List.of("value");
        if (f.has("fields") && fields.isEmpty()) {
            problems.add(f.markOf("fields"), where + ": fields is empty", "list the field names the secret holds");
        }
        for (String name : fields) {
            if (!FIELD.matcher(name).matches()) {
                problems.add(f.markOf("fields"), where + ": field name '" + name + "' is not valid",
                        "use letters, digits, '_', '.' and '-', starting with a letter or '_'");
            }
        }
        String defaultField = fields.isEmpty() ? "value" : fields.get(0);

        Optional<String> issuer = f.string("issuer");
        issuer.ifPresent(name -> {
            if (!declaredIssuers.contains(name)) {
                problems.add(f.markOf("issuer"), where + ": issuer '" + name + "' is not defined",
                        issuers.isEmpty() ? "define it under 'issuers:'" : "known issuers: " + String.join(", ", issuers.keySet()));
            }
        });
        Policy.GeneratorSpec generator = null;
        Optional<Fields> g = f.object("generator");
        if (g.isEmpty() && !f.has("generator")) {
            problems.add(f.mark(), where + " has no generator", "add 'generator:' with type random, command or issuer");
        } else if (g.isPresent()) {
            generator = generator(g.get(), where, defaultField, fields, issuers);
        }

        Schedule schedule = null;
        Optional<Fields> s = f.object("schedule");
        if (s.isEmpty() && !f.has("schedule")) {
            problems.add(f.mark(), where + " has no schedule", "add 'schedule:' with 'every: 30d' or a 'cron:' line");
        } else if (s.isPresent()) {
            schedule = schedule(s.get(), where);
        }

        Duration grace = nonNegative(f, "grace").orElse(defaultGrace);
        Policy.RetrySpec retry = retry(f, defaultRetry);
        Duration retryCap = retryCap(f, defaultRetryCap);
        List<Policy.VerifySpec> verify = f.list("verify", v -> verify(v, where));
        List<Policy.TargetSpec> targets = targets(f, where, fields);
        Optional<Duration> watch = watch(f, defaultWatch);
        boolean docbitsKey = generator instanceof Policy.GeneratorSpec.Issued i
                && issuers.get(i.issuer()) instanceof Policy.IssuerSpec.DocBits;
        Optional<Duration> probe = probe(f, where, docbitsKey);
        for (Policy.TargetSpec t : targets) {
            if (t != null && t.refresh().isPresent() && grace.compareTo(t.refresh().get()) < 0) {
                problems.add(f.has("grace") ? f.markOf("grace") : f.markOf("targets"), where + ": grace "
                        + Durations.format(grace) + " is shorter than target '" + t.id() + "' refresh interval "
                        + Durations.format(t.refresh().get()) + ": the consumer might still hold the old value when it is retired",
                        "make grace at least " + Durations.format(t.refresh().get()));
            }
        }
        f.finish();
        if (id == null || path == null || generator == null || schedule == null || targets.contains(null)
                || verify.stream().anyMatch(java.util.Objects::isNull)) {
            return null;
        }
        return new Policy.SecretPolicy(id, mount, path, fields, generator, issuer, schedule, grace, retry, verify, targets,
                watch, retryCap, probe);
    }

    private Policy.GeneratorSpec generator(Fields g, String where, String defaultField, List<String> fields,
                                           Map<String, Policy.IssuerSpec> issuers) {
        Optional<GeneratorType> type = g.choice("type", GeneratorType.class);
        if (type.isEmpty() && !g.has("type")) {
            problems.add(g.mark(), where + ": generator.type is missing", "write type: random, command or issuer");
        }
        String field = g.string("field", defaultField);
        if (!fields.contains(field)) {
            problems.add(g.markOf("field"), where + ": generator field '" + field + "' is not one of the secret's fields "
                    + fields, "add it to 'fields' or name a listed field");
        }
        Policy.GeneratorSpec out = null;
        if (type.isPresent()) {
            switch (type.get()) {
                case RANDOM -> out = random(g, where, field);
                case COMMAND -> {
                    List<String> argv = argv(g, "command");
                    if (argv.isEmpty()) {
                        problems.add(g.mark(), where + ": a command generator needs 'command'",
                                "give the program and its arguments as a list");
                    }
                    Duration timeout = g.duration("timeout", Duration.ofSeconds(30), Duration.ofMillis(100), Duration.ofMinutes(10));
                    out = new Policy.GeneratorSpec.Command(field, argv, timeout);
                }
                case ISSUER -> {
                    String issuer = g.requiredString("issuer", "name an issuer defined under 'issuers:'");
                    if (issuer != null && !declaredIssuers.contains(issuer)) {
                        problems.add(g.markOf("issuer"), where + ": issuer '" + issuer + "' is not defined",
                                issuers.isEmpty() ? "define it under 'issuers:'" : "known issuers: " + String.join(", ", issuers.keySet()));
                    }
                    out = issuer == null ? null : new Policy.GeneratorSpec.Issued(field, issuer);
                }
                default -> throw new IllegalStateException();
            }
        }
        g.finish();
        return out;
    }

    private Policy.GeneratorSpec random(Fields g, String where, String field) {
        int length = g.integer("length", 32, 8, 4096);
        String prefix = g.string("prefix", "");
        Map<Policy.CharClass, Integer> minimum = new EnumMap<>(Policy.CharClass.class);
        Optional<YamlNode> classes = g.node("classes");
        if (classes.isEmpty()) {
            minimum.put(Policy.CharClass.LOWER, 1);
            minimum.put(Policy.CharClass.UPPER, 1);
            minimum.put(Policy.CharClass.DIGITS, 1);
        } else {
            Fields.of(classes.get(), g.where() + ".classes", problems).ifPresent(c -> {
                for (Policy.CharClass k : Policy.CharClass.values()) {
                    String key = k.name().toLowerCase(Locale.ROOT);
                    if (c.has(key)) minimum.put(k, c.integer(key, 0, 0, 4096));
                }
                c.finish();
                if (minimum.isEmpty()) {
                    problems.add(c.mark(), where + ": random generator allows no character class",
                            "list at least one of lower, upper, digits, symbols with a minimum count (0 allows without minimum)");
                }
            });
        }
        int sum = minimum.values().stream().mapToInt(Integer::intValue).sum();
        if (sum > length - prefix.length()) {
            problems.add(g.markOf("classes"), where + ": the minimum counts of the classes add up to " + sum
                    + ", more than the " + (length - prefix.length()) + " random characters", "lower the minimums or raise length");
        }
        if (prefix.length() >= length) {
            problems.add(g.markOf("prefix"), where + ": prefix '" + prefix + "' leaves no room in length " + length,
                    "raise length above the prefix length");
        }
        return new Policy.GeneratorSpec.Random(field, length, minimum, prefix);
    }

    private Schedule schedule(Fields s, String where) {
        ZoneId zone = zone(s, "zone").orElse(defaultZone);
        Optional<Duration> every = s.duration("every");
        every.ifPresent(e -> {
            if (e.compareTo(MIN_EVERY) < 0) {
                problems.add(s.markOf("every"), where + ": every " + Durations.format(e) + " is shorter than 1m",
                        "rotate at most once a minute");
            }
        });
        Optional<Cron> cron = s.string("cron").flatMap(text -> {
            try {
                Cron c = Cron.parse(text, zone);
                if (!c.canFire()) {
                    problems.add(s.markOf("cron"), where + ": cron '" + text + "' never fires", "check day-of-month against the months");
                    return Optional.empty();
                }
                return Optional.of(c);
            } catch (IllegalArgumentException e) {
                problems.add(s.markOf("cron"), where + ": " + e.getMessage(), "example: '0 3 * * mon' is Mondays at 03:00");
                return Optional.empty();
            }
        });
        if (!s.has("every") && !s.has("cron")) {
            problems.add(s.mark(), where + ": the schedule has neither 'every' nor 'cron'", "add every: 30d, or a cron line, or both");
        }
        Optional<Window> window = s.object("window").flatMap(w -> window(w, where, zone));
        Duration jitter = nonNegative(s, "jitter").orElse(Duration.ZERO);
        if (every.isPresent() && jitter.compareTo(every.get()) >= 0) {
            problems.add(s.markOf("jitter"), where + ": jitter " + Durations.format(jitter) + " is not shorter than every "
                    + Durations.format(every.get()), "keep jitter well below the rotation interval");
        }
        Optional<Duration> maxAge = s.duration("max_age");
        if (maxAge.isPresent() && every.isPresent() && maxAge.get().compareTo(every.get()) < 0) {
            problems.add(s.markOf("max_age"), where + ": max_age " + Durations.format(maxAge.get()) + " is shorter than every "
                    + Durations.format(every.get()), "max_age is the hard limit: make it at least the interval");
        }
        s.finish();
        return new Schedule(every, cron, window, jitter, maxAge);
    }

    private Optional<Window> window(Fields w, String where, ZoneId scheduleZone) {
        ZoneId zone = zone(w, "zone").orElse(scheduleZone);
        Set<DayOfWeek> days = EnumSet.noneOf(DayOfWeek.class);
        boolean daysOk = true;
        if (w.has("days") || w.node("days").isPresent()) {
            for (String d : w.strings("days")) {
                Optional<Set<DayOfWeek>> parsed = days(d);
                if (parsed.isEmpty()) {
                    problems.add(w.markOf("days"), where + ": '" + d + "' is not a day of the week",
                            "write mon, tue, ... sun or a range like mon-fri");
                    daysOk = false;
                } else {
                    days.addAll(parsed.get());
                }
            }
            if (days.isEmpty() && daysOk) {
                problems.add(w.markOf("days"), where + ": the window lists no days, so it never opens", "list at least one day");
                daysOk = false;
            }
        } else {
            days = EnumSet.allOf(DayOfWeek.class);
        }
        LocalTime from = LocalTime.MIDNIGHT;
        LocalTime to = LocalTime.MIDNIGHT;
        Optional<String> hours = w.string("hours");
        boolean hoursOk = true;
        if (hours.isPresent()) {
            var m = HOURS.matcher(hours.get().strip());
            try {
                if (!m.matches()) throw new DateTimeParseException("bad", hours.get(), 0);
                from = LocalTime.parse(m.group(1));
                to = LocalTime.parse(m.group(2));
            } catch (DateTimeParseException e) {
                problems.add(w.markOf("hours"), where + ": window hours '" + hours.get() + "' are not HH:MM-HH:MM",
                        "example: 02:00-05:00 (22:00-02:00 spans midnight)");
                hoursOk = false;
            }
        }
        w.finish();
        if (!daysOk || !hoursOk) return Optional.empty();
        return Optional.of(new Window(days, from, to, zone));
    }

    private static Optional<Set<DayOfWeek>> days(String text) {
        String t = text.strip().toLowerCase(Locale.ROOT);
        if (t.contains("-")) {
            String[] ab = t.split("-", -1);
            Optional<DayOfWeek> a = day(ab[0]);
            Optional<DayOfWeek> b = ab.length == 2 ? day(ab[1]) : Optional.empty();
            if (a.isEmpty() || b.isEmpty()) return Optional.empty();
            Set<DayOfWeek> out = EnumSet.noneOf(DayOfWeek.class);
            for (DayOfWeek d = a.get(); ; d = d.plus(1)) {
                out.add(d);
                if (d == b.get()) break;
            }
            return Optional.of(out);
        }
        return day(t).map(EnumSet::of);
    }

    private static Optional<DayOfWeek> day(String s) {
        for (DayOfWeek d : DayOfWeek.values()) {
            String full = d.name().toLowerCase(Locale.ROOT);
            if (s.length() >= 3 && full.startsWith(s)) return Optional.of(d);
        }
        return Optional.empty();
    }

    private Policy.VerifySpec verify(Fields v, String where) {
        Optional<VerifyType> type = v.choice("type", VerifyType.class);
        if (type.isEmpty() && !v.has("type")) {
            problems.add(v.mark(), where + ": verify step has no type", "write type: command or type: docbits");
        }
        Duration timeout = v.duration("timeout", Duration.ofSeconds(30), Duration.ofMillis(100), Duration.ofMinutes(10));
        if (type.isPresent() && type.get() == VerifyType.DOCBITS) {
            java.net.URI base = url(v, "base_url", "give the DocBits host, like https://eu.api.docbits.com");
            List<String> orgs = v.strings("orgs");
            if (orgs.isEmpty()) {
                problems.add(v.mark(), where + ": a docbits verify step needs 'orgs'",
                        "list every organisation (X-ORG-ID) the key must work for");
            }
            v.finish();
            return base == null ? null : new Policy.VerifySpec.DocBits(base, orgs, timeout);
        }
        List<String> argv = argv(v, "command");
        if (type.isPresent() && argv.isEmpty()) {
            problems.add(v.mark(), where + ": a command verify step needs 'command'", "give the program that checks the value read on standard input");
        }
        v.finish();
        return new Policy.VerifySpec.Command(argv, timeout);
    }

    private List<Policy.TargetSpec> targets(Fields f, String where, List<String> fields) {
        Map<String, YamlNode.Mark> ids = new HashMap<>();
        List<Policy.TargetSpec> out = new ArrayList<>();
        for (Policy.TargetSpec t : f.list("targets", t -> target(t, where, fields, ids))) {
            out.add(t);
        }
        return out;
    }

    private Policy.TargetSpec target(Fields t, String where, List<String> fields, Map<String, YamlNode.Mark> ids) {
        String id = t.requiredString("id", "give the target a short id like app-config");
        if (id != null) {
            if (!ID.matcher(id).matches()) {
                problems.add(t.markOf("id"), where + ": target id '" + id + "' is not valid",
                        "use lower-case letters, digits, '.', '_' and '-'");
            }
            YamlNode.Mark first = ids.putIfAbsent(id, t.markOf("id"));
            if (first != null) {
                problems.add(t.markOf("id"), where + ": target id '" + id + "' is used twice (first at line " + first.line() + ")",
                        "give every target of a secret its own id");
            }
        }
        Optional<TargetType> type = t.choice("type", TargetType.class);
        if (type.isEmpty() && !t.has("type")) {
            problems.add(t.mark(), where + ": target has no type", "write type: file, webhook, exec or docbits");
        }
        Optional<Duration> refresh = t.duration("refresh");
        Optional<Policy.HealthSpec> health = t.object("health").map(h -> health(h, where));
        boolean rollback = t.bool("rollback", false);
        if (rollback && !t.has("health")) {
            problems.add(t.markOf("rollback"), where + ": target '" + id + "' rolls back on a failed health check but has none",
                    "add a health check, or remove rollback");
        }
        Policy.TargetSpec out = null;
        if (type.isEmpty()) t.acceptAll();
        if (type.isPresent()) {
            out = switch (type.get()) {
                case FILE -> fileTarget(t, where, id, fields, refresh, health, rollback);
                case WEBHOOK -> {
                    java.net.URI url = url(t, "url", "give the URL that receives the POST, like https://app.internal/keyward");
                    Policy.VaultField key = vaultField(t, "signing_key", "hmac_key",
                            "give the Vault path of the key that signs each request, like { path: keyward/webhooks/app }");
                    boolean value = t.bool("include_value", false);
                    Duration timeout = t.duration("timeout", Duration.ofSeconds(10), Duration.ofMillis(100), Duration.ofMinutes(5));
                    yield url == null || key == null || id == null ? null
                            : new Policy.TargetSpec.Webhook(id, url, key, value, timeout, refresh, health, rollback);
                }
                case EXEC -> {
                    boolean shell = t.bool("shell", false);
                    List<String> argv;
                    if (shell) {
                        String line = t.requiredString("command", "give the shell command line, like 'systemctl reload app'");
                        argv = line == null ? List.of() : List.of("/bin/sh", "-c", line);
                    } else {
                        argv = argv(t, "command");
                        if (argv.isEmpty() && !t.has("command")) {
                            problems.add(t.mark(), where + ": exec target '" + id + "' needs 'command'",
                                    "give the program and its arguments as a list, like [systemctl, reload, app]");
                        }
                    }
                    Duration timeout = t.duration("timeout", Duration.ofSeconds(60), Duration.ofMillis(100), Duration.ofMinutes(30));
                    yield argv.isEmpty() || id == null ? null
                            : new Policy.TargetSpec.Exec(id, argv, shell, timeout, refresh, health, rollback);
                }
                case DOCBITS -> {
                    java.net.URI base = url(t, "base_url", "give the DocBits host, like https://eu.api.docbits.com");
                    String org = t.requiredString("org", "name the DocBits organisation (X-ORG-ID)");
                    Policy.VaultField auth = vaultField(t, "auth", "api_key",
                            "give the Vault path of the DocBits key that may update the endpoint");
                    Policy.Endpoint endpoint = t.object("endpoint").map(e -> endpoint(e, "PUT", true)).orElse(null);
                    if (endpoint == null && !t.has("endpoint")) {
                        problems.add(t.mark(), where + ": docbits target '" + id + "' needs 'endpoint'",
                                "give method, path and body, like { method: PUT, path: /integrations/erp, body: '{\"password\": \"{key}\"}' }");
                    }
                    Duration timeout = t.duration("timeout", Duration.ofSeconds(15), Duration.ofMillis(100), Duration.ofMinutes(5));
                    yield base == null || org == null || auth == null || endpoint == null || id == null ? null
                            : new Policy.TargetSpec.DocBits(id, base, org, auth, endpoint, timeout, refresh, health, rollback);
                }
            };
        }
        t.finish();
        return out;
    }

    private Policy.TargetSpec fileTarget(Fields t, String where, String id, List<String> fields, Optional<Duration> refresh,
                                         Optional<Policy.HealthSpec> health, boolean rollback) {
        Optional<String> path = Optional.ofNullable(t.requiredString("path", "give the absolute path of the file to write"));
        if (path.isPresent() && !Path.of(path.get()).isAbsolute()) {
            problems.add(t.markOf("path"), where + ": target path '" + path.get() + "' is not absolute",
                    "write the full path, starting with /");
            path = Optional.empty();
        }
        Policy.FileFormat format = t.choice("format", Policy.FileFormat.class).orElse(Policy.FileFormat.RAW);
        String field = t.string("field", fields.isEmpty() ? "value" : fields.get(0));
        if (!fields.contains(field)) {
            problems.add(t.markOf("field"), where + ": target field '" + field + "' is not one of the secret's fields " + fields, null);
        }
        if (t.has("field") && format != Policy.FileFormat.RAW) {
            problems.add(t.markOf("field"), where + ": 'field' applies to format raw only; format "
                    + format.name().toLowerCase(Locale.ROOT) + " writes every field", "remove 'field'");
        }
        Optional<String> template = t.string("template");
        if (format == Policy.FileFormat.TEMPLATE) {
            if (template.isEmpty()) {
                problems.add(t.mark(), where + ": target '" + id + "' has format template but no 'template'",
                        "give the text with placeholders like {{password}}");
            } else {
                java.util.regex.Matcher m = PLACEHOLDER.matcher(template.get());
                while (m.find()) {
                    String name = m.group(1);
                    if (!fields.contains(name) && !TEMPLATE_WORDS.contains(name)) {
                        problems.add(t.markOf("template"), where + ": template placeholder {{" + name
                                + "}} is not one of the secret's fields " + fields, "fields, secret_id and version may be used");
                    }
                }
            }
        } else if (template.isPresent()) {
            problems.add(t.markOf("template"), where + ": 'template' needs format: template", "add format: template");
        }
        Set<PosixFilePermission> mode = mode(t, where);
        Optional<String> owner = account(t, "owner", where);
        Optional<String> group = account(t, "group", where);
        if (path.isEmpty() || id == null || mode == null) return null;
        return new Policy.TargetSpec.File(id, Path.of(path.get()), format, field, template, mode, owner, group, refresh,
                health, rollback);
    }

    private Policy.HealthSpec health(Fields h, String where) {
        Duration timeout = h.duration("timeout", Duration.ofSeconds(5), Duration.ofMillis(100), Duration.ofMinutes(5));
        Duration wait = h.duration("wait", Duration.ofSeconds(30), Duration.ZERO, Duration.ofMinutes(30));
        Policy.HealthSpec out = null;
        if (h.has("url") == h.has("command")) {
            problems.add(h.mark(), where + ": a health check needs exactly one of 'url' and 'command'",
                    "url: http://127.0.0.1:8080/health (expects 2xx), or command: [program, args]");
        } else if (h.has("url")) {
            java.net.URI url = url(h, "url", "give the URL to GET, like http://127.0.0.1:8080/health");
            out = url == null ? null : new Policy.HealthSpec.Http(url, timeout, wait);
        } else {
            List<String> argv = argv(h, "command");
            out = argv.isEmpty() ? null : new Policy.HealthSpec.Command(argv, timeout, wait);
        }
        h.finish();
        return out;
    }

    /** The {@code files} section: files rendered from several secrets. */
    private List<Policy.SharedFile> files(Fields top, List<Policy.SecretPolicy> secrets, Map<String, YamlNode.Mark> declared,
                                          Map<Path, YamlNode.Mark> taken) {
        List<Policy.SharedFile> out = new ArrayList<>();
        Optional<YamlNode> node = top.node("files");
        if (node.isEmpty()) return out;
        if (!(node.get() instanceof YamlNode.Sequence seq)) {
            problems.add(node.get().mark(), "files must be a list, not " + node.get().kind(), "start each file with '- id: ...'");
            return out;
        }
        Map<String, Policy.SecretPolicy> byId = new HashMap<>();
        secrets.forEach(s -> byId.put(s.id(), s));
        Map<String, YamlNode.Mark> ids = new HashMap<>();
        for (int i = 0; i < seq.items().size(); i++) {
            Optional<Fields> item = Fields.of(seq.items().get(i), "files[" + i + "]", problems);
            if (item.isEmpty()) continue;
            Fields f = item.get();
            String id = f.requiredString("id", "give the file a short id like payments-config");
            if (id != null && !ID.matcher(id).matches()) {
                problems.add(f.markOf("id"), "file id '" + id + "' is not valid",
                        "use 1-63 lower-case letters, digits, '.', '_' and '-', starting with a letter or digit");
                id = null;
            }
            String where = id == null ? f.where() : "file '" + id + "'";
            if (id != null) {
                YamlNode.Mark first = ids.putIfAbsent(id, f.markOf("id"));
                if (first != null) {
                    problems.add(f.markOf("id"), "file id '" + id + "' is used twice (first at line " + first.line() + ")",
                            "give every file its own id");
                }
            }
            Optional<String> path = Optional.ofNullable(f.requiredString("path", "give the absolute path of the file to write"));
            if (path.isPresent() && !Path.of(path.get()).isAbsolute()) {
                problems.add(f.markOf("path"), where + ": path '" + path.get() + "' is not absolute", "write the full path, starting with /");
                path = Optional.empty();
            }
            if (path.isPresent()) {
                YamlNode.Mark first = taken.putIfAbsent(Path.of(path.get()).normalize(), f.markOf("path"));
                if (first != null) {
                    problems.add(f.markOf("path"), where + ": " + path.get() + " is written by another target (line "
                            + first.line() + ")", "one file, one writer: name every secret it needs in this template instead");
                }
            }
            String template = f.requiredString("template", "give the file's text with placeholders like {{ payments-db.password }}");
            List<Policy.SharedFile.Use> uses = new ArrayList<>();
            if (template != null) {
                java.util.regex.Matcher m = Policy.SharedFile.PLACEHOLDER.matcher(template);
                while (m.find()) {
                    Policy.SharedFile.Use use = use(m.group(1), template.substring(0, m.start()).split("\n", -1).length,
                            byId, declared, f, where);
                    if (use != null) uses.add(use);
                }
                if (!Policy.SharedFile.PLACEHOLDER.matcher(template).find()) {
                    problems.add(f.markOf("template"), where + ": the template names no secret",
                            "write placeholders like {{ payments-db.password }}");
                }
            }
            for (String secretId : uses.stream().map(Policy.SharedFile.Use::secretId).distinct().toList()) {
                String fileId = id;
                if (fileId != null && byId.get(secretId).targets().stream().anyMatch(t -> t.id().equals(fileId))) {
                    problems.add(f.markOf("id"), where + ": secret " + secretId + " already has a target '" + fileId + "'",
                            "give the file another id");
                }
            }
            Set<PosixFilePermission> mode = mode(f, where);
            Optional<String> owner = account(f, "owner", where);
            Optional<String> group = account(f, "group", where);
            List<String> then = argv(f, "then");
            f.finish();
            if (id != null && path.isPresent() && template != null && mode != null && !uses.isEmpty()) {
                out.add(new Policy.SharedFile(id, Path.of(path.get()), template, uses, mode, owner, group, then));
            }
        }
        return out;
    }

    /** One placeholder's secret and field, or null (reported) when the policy has no such secret or field. */
    private Policy.SharedFile.Use use(String ref, int templateLine, Map<String, Policy.SecretPolicy> byId,
                                      Map<String, YamlNode.Mark> declared, Fields f, String where) {
        String at = where + ", template line " + templateLine + ": {{ " + ref + " }}";
        int dot = ref.lastIndexOf('.');
        if (dot <= 0 || dot == ref.length() - 1) {
            problems.add(f.markOf("template"), at + " does not name a secret and a field", "write it like {{ payments-db.password }}");
            return null;
        }
        String secretId = ref.substring(0, dot);
        String field = ref.substring(dot + 1);
        Policy.SecretPolicy s = byId.get(secretId);
        if (s == null) {
            if (!declared.containsKey(secretId)) { // a secret with problems of its own is reported there
                problems.add(f.markOf("template"), at + " names no secret of this policy",
                        "known: " + String.join(", ", new java.util.TreeSet<>(declared.keySet())));
            }
            return null;
        }
        if (!s.fields().contains(field)) {
            problems.add(f.markOf("template"), at + ": secret " + secretId + " has no field '" + field + "'",
                    "its fields: " + String.join(", ", s.fields()));
            return null;
        }
        return new Policy.SharedFile.Use(secretId, field);
    }

    /** A file's owner or group, checked to be a plain account name. */
    private Optional<String> account(Fields t, String key, String where) {
        Optional<String> name = t.string(key);
        name.filter(v -> !ACCOUNT.matcher(v).matches()).ifPresent(v -> problems.add(t.markOf(key),
                where + ": " + key + " '" + v + "' is not a user or group name", "use a name like www-data or a number"));
        return name;
    }

    private Set<PosixFilePermission> mode(Fields t, String where) {
        String text = t.string("mode", "0600");
        if (!text.matches("0?[0-7]{3}")) {
            problems.add(t.markOf("mode"), where + ": file mode '" + text + "' is not an octal mode", "write it like \"0600\" (quoted)");
            return null;
        }
        int bits = Integer.parseInt(text, 8);
        if ((bits & 0002) != 0) {
            problems.add(t.markOf("mode"), where + ": file mode " + text + " lets anyone write the secret", "use 0600 or 0640");
            return null;
        }
        if ((bits & 0004) != 0) {
            problems.add(t.markOf("mode"), where + ": file mode " + text + " lets anyone read the secret", "use 0600 or 0640");
            return null;
        }
        StringBuilder s = new StringBuilder();
        for (int shift = 6; shift >= 0; shift -= 3) {
            int b = (bits >> shift) & 7;
            s.append((b & 4) != 0 ? 'r' : '-').append((b & 2) != 0 ? 'w' : '-').append((b & 1) != 0 ? 'x' : '-');
        }
        return PosixFilePermissions.fromString(s.toString());
    }

    /** {@code retry_cap}: after rolled-back rotations the next attempt waits 1m, 2m, 4m, ... up to this. */
    private Duration retryCap(Fields f, Duration fallback) {
        return f.duration("retry_cap", fallback, Duration.ofMinutes(1), Duration.ofDays(30));
    }

    private Policy.RetrySpec retry(Fields f, Policy.RetrySpec fallback) {
        return Backoffs.read(f, fallback);
    }

    private Optional<Duration> nonNegative(Fields f, String key) {
        Optional<String> text = f.string(key);
        if (text.isPresent() && text.get().strip().startsWith("-")) {
            problems.add(f.markOf(key), f.where() + "." + key + " is negative", "durations are 0 or more");
            return Optional.empty();
        }
        return f.duration(key);
    }

    private Optional<ZoneId> zone(Fields f, String key) {
        return f.string(key).flatMap(z -> {
            try {
                return Optional.of(ZoneId.of(z));
            } catch (DateTimeException e) {
                problems.add(f.markOf(key), f.where() + "." + key + ": '" + z + "' is not a time zone",
                        "use a name like Europe/Berlin or UTC");
                return Optional.empty();
            }
        });
    }

    private List<String> argv(Fields f, String key) {
        Optional<YamlNode> n = f.node(key);
        if (n.isEmpty()) return List.of();
        if (!(n.get() instanceof YamlNode.Sequence)) {
            problems.add(n.get().mark(), f.where() + "." + key + " must be a list: the program and its arguments",
                    "write it like [\"/usr/local/bin/tool\", \"--flag\"]; no shell is involved");
            return List.of();
        }
        List<String> argv = f.strings(key);
        if (argv.isEmpty()) {
            problems.add(n.get().mark(), f.where() + "." + key + " is an empty list", "give at least the program");
        }
        return argv;
    }
}
