package io.keyward.target;

import io.keyward.generate.Programs;
import java.io.IOException;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Runs a reload command or a health command through keyward's one runner ({@link Programs}): no
 * input, the target's environment, a timeout. What it prints goes to the log with every value of
 * the secret removed.
 */
final class Program {

    private Program() {}

    /** What a program run for a target gets in its environment: which secret, version and target, never the value. */
    static Map<String, String> env(String secretId, int version, String target) {
        return Map.of("KEYWARD_SECRET_ID", secretId, "KEYWARD_VERSION", String.valueOf(version), "KEYWARD_TARGET", target);
    }

    /** The secret's values, to be removed from whatever a program prints. */
    static List<String> values(io.keyward.rotation.SecretData value) {
        return value.fields().values().stream().map(String::valueOf).toList();
    }

    /** The exit code; a program that cannot start or runs too long is an IOException naming it. */
    static int run(String what, List<String> argv, Map<String, String> env, Duration timeout, Collection<String> hide)
            throws IOException {
        return Programs.run(what, argv, null, env, timeout, hide, false).exitCode();
    }
}
