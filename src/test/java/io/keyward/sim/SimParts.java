package io.keyward.sim;

import io.keyward.rotation.Plugins;
import io.keyward.rotation.SecretData;
import io.keyward.rotation.SecretMetadata;
import io.keyward.rotation.SecretPath;
import io.keyward.rotation.SecretStore;
import io.keyward.rotation.StoreException;
import io.keyward.rotation.VersionedSecret;
import java.io.IOException;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Random;
import java.util.Set;
import java.util.function.Consumer;

/** The simulated outside world: a crash, a faulty view of the store, an issuer, targets and a verifier. */
final class SimParts {

    private SimParts() {}

    /** The agent's process dies here (an Error: nothing in keyward catches it). */
    static final class Crash extends Error {
        Crash(String where) {
            super(where, null, false, false);
        }
    }

    /** How often things go wrong, changed by events. */
    static final class Faults {
        double store;
        double issuer;
        boolean issuerDown;
        boolean verifierRejects;
        double verifierFlaky;
        final Random random;

        Faults(Random random) {
            this.random = random;
        }
    }

    /** No answer came, as a reset or a timeout after sending leaves it: the call may or may not have taken effect. */
    static final class AnswerLost extends StoreException {
        AnswerLost(String what) {
            super("answer lost (" + what + ")");
        }

        @Override
        public boolean outcomeUnknown() {
            return true;
        }
    }

    /**
     * One agent's view of the store: a call may fail before it reaches Vault, crash the agent
     * before or after it took effect, get no answer without having taken effect, or take effect
     * and lose its answer.
     */
    static final class FaultyStore implements SecretStore {
        private final SecretStore inner;
        private final Faults faults;
        private final Written written;
        int calls;

        /** Told of every write that reached the store. */
        interface Written {
            void written(SecretPath path, int version, SecretData data);
        }

        FaultyStore(SecretStore inner, Faults faults, Written written) {
            this.inner = inner;
            this.faults = faults;
            this.written = written;
        }

        private interface Call<T> {
            T run() throws StoreException;
        }

        private <T> T call(String what, Call<T> c) throws StoreException {
            calls++;
            double p = faults.store;
            double x = p == 0 ? 1 : faults.random.nextDouble();
            if (x < p * 0.2) throw new Crash("crash before " + what);
            if (x < p * 0.35) throw new StoreException("Vault unavailable (" + what + ")");
            if (x < p * 0.45) throw new AnswerLost(what + ", lost on its way: not carried out");
            T out = c.run();
            if (x < p * 0.6) throw new Crash("crash after " + what);
            if (x < p) throw new AnswerLost(what);
            return out;
        }

        public Optional<VersionedSecret> read(SecretPath p) throws StoreException {
            return call("read", () -> inner.read(p));
        }

        public Optional<VersionedSecret> read(SecretPath p, int v) throws StoreException {
            return call("read", () -> inner.read(p, v));
        }

        public int write(SecretPath p, SecretData d, OptionalInt e) throws StoreException {
            return call("write", () -> {
                int v = inner.write(p, d, e);
                written.written(p, v, d);
                return v;
            });
        }

        public Optional<SecretMetadata> metadata(SecretPath p) throws StoreException {
            return call("metadata", () -> inner.metadata(p));
        }

        public void writeCustomMetadata(SecretPath p, Map<String, String> c) throws StoreException {
            call("custom", () -> {
                inner.writeCustomMetadata(p, c);
                return null;
            });
        }

        public List<String> list(SecretPath p) throws StoreException {
            return call("list", () -> inner.list(p));
        }

        public void deleteVersions(SecretPath p, Collection<Integer> v) throws StoreException {
            call("delete", () -> {
                inner.deleteVersions(p, v);
                return null;
            });
        }

        public void deleteAll(SecretPath p) throws StoreException {
            call("delete", () -> {
                inner.deleteAll(p);
                return null;
            });
        }
    }

    /**
     * An issuer shared by every agent: it mints keys (the same one for a repeated request id),
     * accepts generated ones, revokes, and may fail before acting or act and lose its answer.
     */
    static final class Issuer implements Plugins.Issuer {
        final Set<String> valid = new HashSet<>();
        final Set<String> revoked = new HashSet<>();
        final Map<String, String> byRequest = new HashMap<>();
        final Map<String, String> requestOf = new HashMap<>();
        /** Keys an operator made or took over: keyward does not answer for them. */
        final Set<String> operators = new HashSet<>();
        private final Faults faults;
        private final String name;
        private int minted;
        /** Called before each mint and accept with the key (the world checks one rotation at a time). */
        Consumer<String> beforeNew = k -> { };
        /** Called when a key is revoked (the world checks that no live member holds it). */
        Consumer<String> onRevoke = k -> { };

        Issuer(String name, Faults faults) {
            this.name = name;
            this.faults = faults;
        }

        private void maybeFail(String what) throws IOException {
            if (faults.issuerDown) throw new IOException("issuer unavailable (" + what + ")");
        }

        private boolean loseAnswer() {
            return faults.issuer > 0 && faults.random.nextDouble() < faults.issuer;
        }

        @Override
        public String issue(String secretId, String requestId) throws IOException {
            maybeFail("issue");
            String key = byRequest.get(requestId);
            if (key == null) {
                key = name + "-k" + (++minted);
                beforeNew.accept(key);
                byRequest.put(requestId, key);
                requestOf.put(key, requestId);
                valid.add(key);
            }
            if (loseAnswer()) throw new IOException("issuer answer lost");
            return key;
        }

        @Override
        public void accept(String secretId, String value) throws IOException {
            maybeFail("accept");
            if (!valid.contains(value) && !revoked.contains(value)) {
                beforeNew.accept(value);
                valid.add(value);
            }
            if (loseAnswer()) throw new IOException("issuer answer lost");
        }

        @Override
        public void revoke(String secretId, String value) throws IOException {
            maybeFail("revoke");
            if (valid.remove(value)) {
                revoked.add(value);
                onRevoke.accept(value);
            }
            if (loseAnswer()) throw new IOException("issuer answer lost");
        }

        /** A key an operator makes by hand in the issuer and writes to Vault. */
        String operatorKey() {
            String key = name + "-op" + (++minted);
            valid.add(key);
            operators.add(key);
            return key;
        }
    }

    /**
     * A consumer on a host: holds the last value written; may be down, or write and lose the
     * answer. A readable one (a file) can be read back, and may lose writes: the write reports
     * success and the content stays as it was (another writer put the old one back, a restore).
     */
    static final class Target implements Plugins.Target {
        final String id;
        final String host;
        final String field;
        final boolean readable;
        String holds;
        boolean down;
        boolean flaky;
        boolean losesWrites;
        int writes;
        private final Random random;

        Target(String id, String host, String field, boolean readable, Random random) {
            this.id = id;
            this.host = host;
            this.field = field;
            this.readable = readable;
            this.random = random;
        }

        @Override
        public String id() {
            return id;
        }

        @Override
        public void deliver(String secretId, int version, SecretData value) throws IOException {
            if (down) throw new IOException("target " + id + " on " + host + " is down");
            String key = value.string(field).orElseThrow(() -> new IllegalStateException("no field " + field));
            if (!losesWrites) { // a lost write leaves the target as it was, exemptions included
                holds = key;
                writes++;
            }
            if (flaky && random.nextInt(4) == 0) throw new IOException("target " + id + " did not answer");
        }

        @Override
        public Optional<Boolean> holds(String secretId, int version, SecretData value) {
            return readable ? Optional.of(value.string(field).equals(Optional.ofNullable(holds))) : Optional.empty();
        }

        @Override
        public String toString() {
            return host + "/" + id;
        }
    }

    /** A verify step that may refuse every value, or fail now and then. */
    static final class Verifier implements Plugins.Verifier {
        private final Faults faults;
        private final String field;

        Verifier(Faults faults, String field) {
            this.faults = faults;
            this.field = field;
        }

        @Override
        public void verify(String secretId, SecretData value) throws IOException {
            if (faults.verifierRejects) throw new Plugins.Rejected("the new value is refused");
            if (faults.verifierFlaky > 0 && faults.random.nextDouble() < faults.verifierFlaky) {
                throw new IOException("verifier unreachable");
            }
            if (value.string(field).isEmpty()) throw new Plugins.Rejected("no field " + field);
        }
    }
}
