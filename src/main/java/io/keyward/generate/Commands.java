package io.keyward.generate;

import io.keyward.policy.Policy;
import io.keyward.rotation.Plugins;
import io.keyward.rotation.SecretData;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** Generators, issuers and verifiers that are external programs. */
final class Commands {

    private Commands() {}

    /** Prints a new value on standard output (trailing newline removed). */
    record Generator(List<String> argv, Duration timeout, Map<String, String> env) implements Plugins.Generator {
        @Override
        public String generate() throws IOException {
            Programs.Result r = Programs.run("generator", argv, null, env, timeout, List.of(), true);
            if (r.exitCode() != 0) throw new IOException(argv.get(0) + " exited with " + r.exitCode());
            String value = stripNewline(r.stdout());
            if (value.isEmpty()) throw new IOException(argv.get(0) + " printed nothing");
            return value;
        }

        @Override
        public String toString() {
            return "CommandGenerator[" + argv.get(0) + "]";
        }
    }

    /** Issue, accept and revoke through programs; see {@link Policy.IssuerSpec.Command}. */
    record Issuer(Policy.IssuerSpec.Command spec, Map<String, String> env) implements Plugins.Issuer {
        @Override
        public String issue(String secretId, String requestId) throws IOException {
            Programs.Result r = Programs.run("issuer " + spec.name() + ": issue", spec.issue(), null,
                    with(env, "KEYWARD_SECRET_ID", secretId, "KEYWARD_REQUEST_ID", requestId), spec.timeout(), List.of(), true);
            if (r.exitCode() != 0) throw new IOException("issuer " + spec.name() + ": issue exited with " + r.exitCode());
            String key = stripNewline(r.stdout());
            if (key.isEmpty()) throw new IOException("issuer " + spec.name() + ": issue printed no key");
            return key;
        }

        @Override
        public void accept(String secretId, String value) throws IOException {
            if (spec.accept().isEmpty()) return;
            expectZero("accept", Programs.run("issuer " + spec.name() + ": accept", spec.accept(), value,
                    with(env, "KEYWARD_SECRET_ID", secretId), spec.timeout(), List.of(value), true));
        }

        @Override
        public void revoke(String secretId, String value) throws IOException {
            expectZero("revoke", Programs.run("issuer " + spec.name() + ": revoke", spec.revoke(), value,
                    with(env, "KEYWARD_SECRET_ID", secretId), spec.timeout(), List.of(value), true));
        }

        private void expectZero(String what, Programs.Result r) throws IOException {
            if (r.exitCode() != 0) throw new IOException("issuer " + spec.name() + ": " + what + " exited with " + r.exitCode());
        }

        @Override
        public String toString() {
            return "CommandIssuer[" + spec.name() + "]";
        }
    }

    /** Reads the value of {@code field} on standard input; exit 0 means it works, 1 that it does not. */
    record Verifier(List<String> argv, Duration timeout, String field, Map<String, String> env) implements Plugins.Verifier {
        @Override
        public void verify(String secretId, SecretData value) throws IOException {
            String v = value.string(field).orElse("");
            Programs.Result r = Programs.run("verifier", argv, v, with(env, "KEYWARD_SECRET_ID", secretId), timeout,
                    List.of(v), true);
            if (r.exitCode() == 1) throw new Plugins.Rejected(argv.get(0) + " rejected the new value");
            if (r.exitCode() != 0) throw new IOException(argv.get(0) + " exited with " + r.exitCode());
        }

        @Override
        public String toString() {
            return "CommandVerifier[" + argv.get(0) + "]";
        }
    }

    static Map<String, String> with(Map<String, String> env, String... pairs) {
        Map<String, String> out = new java.util.HashMap<>(env);
        for (int i = 0; i + 1 < pairs.length; i += 2) out.put(pairs[i], pairs[i + 1]);
        return out;
    }

    static String stripNewline(String s) {
        String out = s;
        while (out.endsWith("\n") || out.endsWith("\r")) out = out.substring(0, out.length() - 1);
        return out;
    }
}
