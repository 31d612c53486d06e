package io.keyward.policy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/** A validated rotation policy: the secrets keyward manages and the issuers they use. */
public record Policy(Path source, Map<String, IssuerSpec> issuers, List<SecretPolicy> secrets) {

    public Policy {
        Objects.requireNonNull(source, "source");
        issuers = Map.copyOf(issuers);
        secrets = List.copyOf(secrets);
    }

    /** Loads and validates a policy file; every problem is reported at once. */
    public static Policy load(Path file) throws ConfigException {
        return new PolicyReader().read(YamlLoader.load(file), file);
    }

    public static Policy parse(String name, String yaml) throws ConfigException {
        return new PolicyReader().read(YamlLoader.parse(name, yaml), Path.of(name));
    }

    public Optional<SecretPolicy> secret(String id) {
        return secrets.stream().filter(s -> s.id().equals(id)).findFirst();
    }

    /** One managed secret. */
    public record SecretPolicy(String id, String mount, String path, List<String> fields, GeneratorSpec generator,
                               Optional<String> issuer, Schedule schedule, Duration grace, RetrySpec retry,
                               List<VerifySpec> verify, List<TargetSpec> targets) {
        public SecretPolicy {
            fields = List.copyOf(fields);
            verify = List.copyOf(verify);
            targets = List.copyOf(targets);
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
         * DocBits in API mode: keys are created and revoked through operator-configured endpoints,
         * called with the key read from {@code auth}; {@code keyPointer} finds the new key in the answer.
         */
        record DocBits(String name, java.net.URI baseUrl, String org, VaultField auth, Endpoint create,
                       String keyPointer, Endpoint revoke, Duration timeout) implements IssuerSpec {}

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

    /** An HTTP call of a DocBits key endpoint; {@code body} may hold {request_id}, {secret_id} and {key}. */
    public record Endpoint(String method, String path, String body) {}

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

    /** Where a secret is delivered. */
    public sealed interface TargetSpec {
        String id();

        /** How often the consumer reads what it was given again (a grace shorter than this is an error). */
        Optional<Duration> refresh();

        /** A file written atomically (temporary file, fsync, rename) with the given mode. */
        record File(String id, Path path, String field, Set<java.nio.file.attribute.PosixFilePermission> mode,
                    Optional<Duration> refresh) implements TargetSpec {
            public File {
                mode = Set.copyOf(mode);
            }
        }
    }
}
