package io.keyward.target;

import io.keyward.policy.Policy;
import io.keyward.rotation.Plugins;
import io.keyward.rotation.SecretData;
import io.keyward.rotation.SecretPath;
import io.keyward.rotation.SecretStore;
import io.keyward.rotation.StoreException;
import io.keyward.rotation.VersionedSecret;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.regex.Matcher;

/**
 * A file rendered from several secrets (the policy's {@code files}): one target per secret its
 * template names, all writing the one file. A delivery of one secret renders the template with
 * that value and the others' latest (delivered here, else read live from Vault), writes the file
 * atomically, then runs {@code then} under the restart budget. Writes that come together (within
 * {@code settle}) share one run of {@code then}; each delivery returns once the run that follows
 * its write has ended. A missing or empty value refuses the render and leaves the file as it was.
 */
final class SharedFile {

    /** One run of {@code then}: the writes it covered, and why it failed (null: it did not). */
    private record Run(long from, long upTo, String failure) {}

    private final Policy.SharedFile spec;
    private final Map<String, SecretPath> paths;
    private final SecretStore store;
    private final FileTarget writer;
    private final Semaphore budget;
    private final Duration settle;
    private final Map<String, SecretData> values = new HashMap<>();
    private final Deque<Run> runs = new ArrayDeque<>();
    private long written;
    private long reloaded;
    private boolean reloading;

    SharedFile(Policy.SharedFile spec, Map<String, SecretPath> paths, SecretStore store, Semaphore budget, Duration settle) {
        this.spec = spec;
        this.paths = Map.copyOf(paths);
        this.store = store;
        this.budget = budget;
        this.settle = settle;
        this.writer = new FileTarget(new Policy.TargetSpec.File(spec.id(), spec.path(), Policy.FileFormat.TEMPLATE, "value",
                Optional.of(spec.template()), spec.mode(), spec.owner(), spec.group(), Optional.empty(), Optional.empty(), false),
                List.of("value"));
    }

    /** The target of one secret the template names. */
    Plugins.Target target(String secretId) {
        return new Plugins.Target() {
            @Override
            public String id() {
                return spec.id();
            }

            @Override
            public void deliver(String id, int version, SecretData value) throws IOException {
                long mine = write(id, version, value);
                if (!spec.then().isEmpty()) reload(mine);
            }

            @Override
            public Optional<Boolean> holds(String id, int version, SecretData value) throws IOException {
                Optional<String> text = render(id, value);
                return text.isEmpty() ? Optional.empty() : Optional.of(writer.holdsText(text.get()));
            }

            @Override
            public String address() {
                return "file " + spec.path().toAbsolutePath();
            }

            /** With a {@code then} command, the application must also have been told: the ledger's record is needed too. */
            @Override
            public boolean readBackSuffices() {
                return spec.then().isEmpty();
            }

            @Override
            public String toString() {
                return "SharedFile.Target[" + spec.id() + " <- " + secretId + " -> " + spec.path() + "]";
            }
        };
    }

    /**
     * Writes the file with this value and returns the write's number. (Written, and {@code then}
     * run, even when the file holds the text already: a delivery is asked for when this host has
     * not recorded it, so the application may not have loaded the file yet.)
     */
    private synchronized long write(String secretId, int version, SecretData value) throws IOException {
        String text = render(secretId, value).orElseThrow(() -> new Plugins.Rejected("file " + spec.id() + ": "
                + missing(secretId, value) + ": " + spec.path() + " not written (with " + secretId + " v" + version + ")"));
        values.put(secretId, value);
        writer.writeText(text);
        return ++written;
    }

    /** The template filled in, or empty when a value is missing or empty. */
    private synchronized Optional<String> render(String secretId, SecretData value) throws IOException {
        Map<String, SecretData> now = new HashMap<>(values);
        now.put(secretId, value);
        for (String other : spec.secretIds()) {
            if (!now.containsKey(other)) {
                Optional<SecretData> live = live(other);
                if (live.isEmpty()) return Optional.empty();
                values.put(other, live.get());
                now.put(other, live.get());
            }
        }
        StringBuilder out = new StringBuilder();
        Matcher m = Policy.SharedFile.PLACEHOLDER.matcher(spec.template());
        int i = 0;
        for (Policy.SharedFile.Use use : spec.uses()) {
            if (!m.find()) break;
            Optional<String> v = now.get(use.secretId()).string(use.field()).filter(s -> !s.isEmpty());
            if (v.isEmpty()) return Optional.empty();
            out.append(spec.template(), i, m.start()).append(v.get());
            i = m.end();
        }
        return Optional.of(out.append(spec.template().substring(i)).toString());
    }

    /** What keeps the render from being whole, for the refusal. */
    private String missing(String secretId, SecretData value) {
        for (Policy.SharedFile.Use use : spec.uses()) {
            SecretData d = use.secretId().equals(secretId) ? value : values.get(use.secretId());
            if (d == null) return "secret " + use.secretId() + " has no version in Vault yet";
            if (d.string(use.field()).filter(s -> !s.isEmpty()).isEmpty()) {
                return "field '" + use.field() + "' of " + use.secretId() + " is empty or missing";
            }
        }
        return "a value is missing";
    }

    private Optional<SecretData> live(String secretId) throws IOException {
        try {
            return store.read(paths.get(secretId)).map(VersionedSecret::data);
        } catch (StoreException e) {
            throw new IOException("file " + spec.id() + ": cannot read " + secretId + " to render " + spec.path() + ": "
                    + e.getMessage(), e);
        }
    }

    /** Returns once a run of {@code then} that started after write {@code mine} has passed; throws when it failed. */
    private void reload(long mine) throws IOException {
        long from;
        synchronized (this) {
            while (true) {
                for (Run r : runs) {
                    if (r.from() <= mine && mine <= r.upTo()) {
                        if (r.failure() == null) return;
                        throw new IOException("file " + spec.id() + ": " + r.failure());
                    }
                }
                if (!reloading) break;
                try {
                    wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("file " + spec.id() + ": interrupted before " + spec.then().get(0) + " ran");
                }
            }
            reloading = true;
            from = reloaded + 1;
        }
        String failure = null;
        long upTo;
        try {
            Thread.sleep(settle.toMillis()); // the other secrets of a change written together share this run
            List<String> hide = new java.util.ArrayList<>();
            synchronized (this) {
                upTo = written;
                values.values().forEach(v -> hide.addAll(Program.values(v)));
            }
            budget.acquire();
            try {
                int exit = Program.run("file " + spec.id() + " then", spec.then(), Map.of("KEYWARD_TARGET", spec.id(),
                        "KEYWARD_FILE", spec.path().toString(), "KEYWARD_SECRET_IDS", String.join(",", spec.secretIds())),
                        Duration.ofMinutes(1), hide);
                if (exit != 0) failure = spec.then().get(0) + " exited with " + exit;
            } finally {
                budget.release();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            synchronized (this) {
                upTo = written;
            }
            failure = "interrupted before " + spec.then().get(0) + " ran";
        } catch (IOException e) {
            synchronized (this) {
                upTo = written;
            }
            failure = e.getMessage();
        }
        synchronized (this) {
            runs.addLast(new Run(from, upTo, failure));
            while (runs.size() > 64) runs.removeFirst();
            if (failure == null) reloaded = upTo;
            reloading = false;
            notifyAll();
        }
        if (failure != null && mine >= from && mine <= upTo) throw new IOException("file " + spec.id() + ": " + failure);
    }

    @Override
    public String toString() {
        return "SharedFile[" + spec.id() + " -> " + spec.path() + "]";
    }
}
