package io.keyward.policy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/** A validated rotation policy: the secrets keyward manages and the issuers they use. */
public record Policy(Path source, Map<String, IssuerSpec> issuers, List<SecretPolicy> secrets, Restarts restarts,
                     Optional<Notify> notifications, List<SharedFile> files) {

    public Policy {
        Objects.requireNonNull(source, "source");
        issuers = Map.copyOf(issuers);
        secrets = List.copyOf(secrets);
        Objects.requireNonNull(restarts, "restarts");
        files = List.copyOf(files);
    }

    /**
     * How long a secret's old value stays valid after the last acknowledgement: none where its
     * issuer is a single-key DocBits account, whose old key died when the new one was made.
     */
    public Duration graceOf(SecretPolicy secret) {
        boolean single = secret.generator() instanceof GeneratorSpec.Issued i
                && issuers.get(i.issuer()) instanceof IssuerSpec.DocBits d && d.singleKey();
        return single ? Duration.ZERO : secret.grace();
    }

    /**
     * A file rendered from several managed secrets (the policy's {@code files} section): a target of
     * each secret its template names, written whenever one of them gets a new version, then
     * {@code then} runs (under the restart budget) once for the change.
     */
    public record SharedFile(String id, Path path, String template, List<Use> uses,
                             Set<java.nio.file.attribute.PosixFilePermission> mode, Optional<String> owner,
                             Optional<String> group, List<String> then) {
        public SharedFile {
            uses = List.copyOf(uses);
            mode = Set.copyOf(mode);
            then = List.copyOf(then);
        }

        /** A placeholder of the template, {@code {{ SECRET.FIELD }}}, spaces allowed inside the braces. */
        public static final java.util.regex.Pattern PLACEHOLDER = java.util.regex.Pattern.compile("\\{\\{\\s*([^{}]*?)\\s*\\}\\}");

        /** One placeholder {@code {{ SECRET.FIELD }}} of the template. */
        public record Use(String secretId, String field) {}

        /** The secrets the template names, in order of first use. */
        public List<String> secretIds() {
            return uses.stream().map(Use::secretId).distinct().toList();
        }
    }

    /** How many exec targets (reloads) run at once across all secrets, and the random delay before each. */
    public record Restarts(int atOnce, Duration splay) {
        public static final Restarts DEFAULT = new Restarts(2, Duration.ofSeconds(5));
    }

    /** Where keyward announces what needs a person: a signed webhook (the log always). */
    public record Notify(java.net.URI url, VaultField signingKey, Set<NoticeKind> events, Duration timeout) {
        public Notify {
            events = Set.copyOf(events);
        }
    }

    /** The events keyward announces. */
    public enum NoticeKind {
        DUE, FAILED, DEGRADED, REVOCABLE, EMERGENCY, REJECTED, DEAD;

        /** As written in the policy, logs, metrics and notifications. */
        public String word() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** Loads and validates a policy file; every problem is reported at once. */
    public static Policy load(Path file) throws ConfigException {
        try {
            return new PolicyReader().read(YamlLoader.load(file), file);
        } catch (OutOfMemoryError e) {
            // What was read so far is garbage once this unwinds, so the heap is free again for the message.
            long max = Runtime.getRuntime().maxMemory() / (1024 * 1024);
            throw new ConfigException(List.of(new Problem(new YamlNode.Mark(file.toString(), 1, 1),
                    "the policy does not fit in keyward's memory (a Java heap of at most " + max + " MiB)",
                    "give keyward more: -Xmx in KEYWARD_JAVA_OPTS (about 4 MiB per 1,000 secrets), or split the policy "
                            + "among agents")));
        }
    }

    public static Policy parse(String name, String yaml) throws ConfigException {
        return new PolicyReader().read(YamlLoader.parse(name, yaml), Path.of(name));
    }

    /** This policy with other secrets (a part of it, or the same with other targets). */
    public Policy withSecrets(List<SecretPolicy> other) {
        return new Policy(source, issuers, other, restarts, notifications, files);
    }

    /** This policy with other shared files. */
    public Policy withFiles(List<SharedFile> other) {
        return new Policy(source, issuers, secrets, restarts, notifications, other);
    }

    public Optional<SecretPolicy> secret(String id) {
        return secrets.stream().filter(s -> s.id().equals(id)).findFirst();
    }

    /**
     * The part of a secret's policy every agent serving it must share (path, how new values are
     * made, schedule, grace), as canonical text: what may differ per host (targets, verify
     * programs' paths, watch) is left out.
     */
    public static String sharedPart(SecretPolicy s, Map<String, IssuerSpec> issuers) {
        StringBuilder b = new StringBuilder("mount=").append(s.mount()).append(";path=").append(s.path())
                .append(";field=").append(s.generator().field()).append(";generator=");
        if (s.generator() instanceof GeneratorSpec.Random r) {
            b.append("random(").append(r.length()).append(',').append(new java.util.TreeMap<>(r.minimum())).append(',')
                    .append(r.prefix()).append(')');
        } else if (s.generator() instanceof GeneratorSpec.Command) {
            b.append("command");
        } else {
            b.append("issued");
        }
        Optional<String> issuer = s.generator() instanceof GeneratorSpec.Issued i ? Optional.of(i.issuer()) : s.issuer();
        issuer.ifPresent(name -> {
            b.append(";issuer=").append(name);
            if (issuers.get(name) instanceof IssuerSpec.DocBits d) {
                b.append("(docbits,").append(d.mode()).append(',').append(d.baseUrl()).append(',').append(d.org()).append(')');
            }
        });
        Schedule sc = s.schedule();
        b.append(";every=").append(sc.every().map(Duration::toString).orElse("-"))
                .append(";cron=").append(sc.cron().map(Cron::toString).orElse("-"))
                .append(";window=").append(sc.window().map(Window::toString).orElse("-"))
                .append(";jitter=").append(sc.jitter()).append(";max_age=").append(sc.maxAge().map(Duration::toString).orElse("-"))
                .append(";grace=").append(s.grace());
        return b.toString();
    }

    /**
     * One managed secret. {@code watch} is how often keyward looks for a version someone else
     * wrote in Vault (empty: never); {@code retryCap} the longest wait between attempts after
     * rotations that rolled back.
     */
    public record SecretPolicy(String id, String mount, String path, List<String> fields, GeneratorSpec generator,
                               Optional<String> issuer, Schedule schedule, Duration grace, RetrySpec retry,
                               List<VerifySpec> verify, List<TargetSpec> targets, Optional<Duration> watch,
                               Duration retryCap, Optional<Duration> probe) {
        public SecretPolicy {
            fields = List.copyOf(fields);
            verify = List.copyOf(verify);
            targets = List.copyOf(targets);
        }

        /** This secret with other targets (what {@code keyward exec} delivers to instead of the policy's). */
        public SecretPolicy withTargets(List<TargetSpec> other) {
            return new SecretPolicy(id, mount, path, fields, generator, issuer, schedule, grace, retry, verify, other, watch,
                    retryCap, probe);
        }
    }

    /** Attempts within one cycle and the backoff between them. */
    public record RetrySpec(int attempts, Duration initial, Duration max) {}

    /** Where a new value comes from. */
    public sealed interface GeneratorSpec {
        /** Random characters: {@code length} in all, at least {@code minimum} of each class, after {@code prefix}. */
        record Random(String field, int length, Map<CharClass, Integer> minimum, String prefix) implements GeneratorSpec {
            public Random {
                minimum = Map.copyOf(minimum);
            }
        }

        /** An external program whose standard output is the value. */
        record Command(String field, List<String> argv, Duration timeout) implements GeneratorSpec {
            public Command {
                argv = List.copyOf(argv);
            }
        }

        /** The system that owns the key issues it (DocBits, a command issuer). */
        record Issued(String field, String issuer) implements GeneratorSpec {}

        String field();
    }

    /** Character classes of the random generator. */
    public enum CharClass {
        LOWER("abcdefghijklmnopqrstuvwxyz"), UPPER("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), DIGITS("0123456789"),
        SYMBOLS("!#%+-.:=?@^_~");

        public final String alphabet;

        CharClass(String alphabet) {
            this.alphabet = alphabet;
        }
    }

    /** An issuer defined in the policy's {@code issuers:} section. */
    public sealed interface IssuerSpec {
        String name();

        /**
         * DocBits. In {@code api} mode keys are created and revoked through operator-configured
         * endpoints, called with the key read from {@code auth}; {@code keyPointer} finds the new key
         * in the answer. In {@code manual} mode a person creates keys in DocBits' settings and hands
         * them to keyward; keyward announces when a key is due ({@code notice} ahead) and when the
         * old one may be revoked. In both, an optional {@code usage} endpoint tells when a key was
         * last used: an old key used within {@code quiet} is not retired. {@code keys: single} is an
         * account with one key and a Regenerate button (manual mode only): a new key kills the old
         * one, so it is delivered at once, without splay or grace.
         */
        record DocBits(String name, DocBitsMode mode, java.net.URI baseUrl, String org, Optional<VaultField> auth,
                       Optional<Endpoint> create, String keyPointer, Optional<Endpoint> revoke, Optional<Usage> usage,
                       Duration notice, Duration timeout, DocBitsKeys keys) implements IssuerSpec {

            public DocBits(String name, DocBitsMode mode, java.net.URI baseUrl, String org, Optional<VaultField> auth,
                           Optional<Endpoint> create, String keyPointer, Optional<Endpoint> revoke, Optional<Usage> usage,
                           Duration notice, Duration timeout) {
                this(name, mode, baseUrl, org, auth, create, keyPointer, revoke, usage, notice, timeout, DocBitsKeys.SEVERAL);
            }

            /** One key per account: regenerating it in DocBits' settings kills the old one at that moment. */
            public boolean singleKey() {
                return keys == DocBitsKeys.SINGLE;
            }
        }

        /**
         * Programs that issue and revoke keys: {@code issue} prints a new key (it gets the request
         * id in KEYWARD_REQUEST_ID and must print the same key when asked twice with one id);
         * {@code revoke} and {@code accept} read a key on standard input.
         */
        record Command(String name, List<String> issue, List<String> revoke, List<String> accept, Duration timeout)
                implements IssuerSpec {
            public Command {
                issue = List.copyOf(issue);
                revoke = List.copyOf(revoke);
                accept = List.copyOf(accept);
            }
        }
    }

    /** How DocBits keys are made: by keyward through endpoints, or by a person in DocBits' settings. */
    public enum DocBitsMode { API, MANUAL }

    /**
     * How many keys a DocBits account holds at once: {@code several} (a new one is made beside the
     * old, which is revoked after the grace) or {@code single} (Regenerate replaces the one key).
     */
    public enum DocBitsKeys { SEVERAL, SINGLE }

    /**
     * An HTTP call of a DocBits endpoint; {@code path} and {@code body} may hold {request_id},
     * {secret_id}, {key} and {key_prefix} (the first 8 characters of the key).
     */
    public record Endpoint(String method, String path, String body) {}

    /** Where DocBits says when a key was last used: an endpoint, a JSON pointer to the time, the quiet period. */
    public record Usage(Endpoint endpoint, String pointer, Duration quiet) {}

    /** Where a key that authorises calls is read: a field of a Vault KV v2 secret. */
    public record VaultField(String mount, String path, String field) {}

    /** A check that a new value works before it is promoted. */
    public sealed interface VerifySpec {
        /** DocBits' key probe must answer success for every listed organisation. */
        record DocBits(java.net.URI baseUrl, List<String> orgs, Duration timeout) implements VerifySpec {
            public DocBits {
                orgs = List.copyOf(orgs);
            }
        }

        /** A program that reads the new value on standard input; exit 0 means it works. */
        record Command(List<String> argv, Duration timeout) implements VerifySpec {
            public Command {
                argv = List.copyOf(argv);
            }
        }
    }

    /** Where a secret is delivered; each may carry a health check, whose pass is the delivery's ack. */
    public sealed interface TargetSpec {
        String id();

        /** How often the consumer reads what it was given again (a grace shorter than this is an error). */
        Optional<Duration> refresh();

        Optional<HealthSpec> health();

        /** Give the target the previous value back when its health check fails after a delivery. */
        boolean rollback();

        /**
         * A file written atomically (temporary file, fsync, rename) with the given mode, owner and
         * group, in one of the formats: one field raw, all fields as env, json or properties, or a
         * template with {{field}} placeholders.
         */
        record File(String id, Path path, FileFormat format, String field, Optional<String> template,
                    Set<java.nio.file.attribute.PosixFilePermission> mode, Optional<String> owner,
                    Optional<String> group, Optional<Duration> refresh, Optional<HealthSpec> health, boolean rollback)
                implements TargetSpec {
            public File {
                mode = Set.copyOf(mode);
            }

            /** A raw file of one field, mode as given, no health check. */
            public static File raw(String id, Path path, String field, Set<java.nio.file.attribute.PosixFilePermission> mode) {
                return new File(id, path, FileFormat.RAW, field, Optional.empty(), mode, Optional.empty(),
                        Optional.empty(), Optional.empty(), Optional.empty(), false);
            }
        }

        /**
         * A JSON POST (secret id, version, fingerprint, and the fields only if {@code includeValue})
         * signed with HMAC-SHA256 by the key at {@code signingKey}.
         */
        record Webhook(String id, java.net.URI url, VaultField signingKey, boolean includeValue, Duration timeout,
                       Optional<Duration> refresh, Optional<HealthSpec> health, boolean rollback) implements TargetSpec {}

        /** A program run after delivery (a reload), as an argument list, or through /bin/sh -c when {@code shell}. */
        record Exec(String id, List<String> argv, boolean shell, Duration timeout, Optional<Duration> refresh,
                    Optional<HealthSpec> health, boolean rollback) implements TargetSpec {
            public Exec {
                argv = List.copyOf(argv);
            }
        }

        /** A DocBits endpoint that stores the value (an integration's credential), called with DocBits' headers. */
        record DocBits(String id, java.net.URI baseUrl, String org, VaultField auth, Endpoint endpoint, Duration timeout,
                       Optional<Duration> refresh, Optional<HealthSpec> health, boolean rollback) implements TargetSpec {}
    }

    /** Layouts of a file target. */
    public enum FileFormat { RAW, ENV, JSON, PROPERTIES, TEMPLATE }

    /** A check that a consumer works after a delivery, polled until it passes or {@code within} runs out. */
    public sealed interface HealthSpec {
        Duration timeout();

        Duration within();

        /** An HTTP GET that must answer 2xx. */
        record Http(java.net.URI url, Duration timeout, Duration within) implements HealthSpec {}

        /** A program that must exit 0. */
        record Command(List<String> argv, Duration timeout, Duration within) implements HealthSpec {
            public Command {
                argv = List.copyOf(argv);
            }
        }
    }
}
