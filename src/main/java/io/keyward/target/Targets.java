package io.keyward.target;

import io.keyward.policy.Policy;
import io.keyward.rotation.Fingerprinter;
import io.keyward.rotation.Plugins;
import io.keyward.rotation.SecretPath;
import io.keyward.rotation.SecretStore;
import io.keyward.rotation.Sleeper;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.function.DoubleSupplier;

/**
 * Builds the targets a policy describes (file, webhook, exec) and wraps any target in its health
 * check. One instance serves a whole policy: exec targets share its restart budget.
 */
public final class Targets {

    private final HttpClient http;
    private final SecretStore store;
    private final Fingerprinter fingerprints;
    private final Clock clock;
    private final Sleeper sleeper;
    private final DoubleSupplier random;
    private final Semaphore budget;
    private final Duration splay;

    public Targets(HttpClient http, SecretStore store, Fingerprinter fingerprints, Clock clock, Sleeper sleeper,
                   DoubleSupplier random, Policy.Restarts restarts) {
        this.http = http;
        this.store = store;
        this.fingerprints = fingerprints;
        this.clock = clock;
        this.sleeper = sleeper;
        this.random = random;
        this.budget = new Semaphore(restarts.atOnce(), true);
        this.splay = restarts.splay();
    }

    public static HttpClient defaultHttpClient() {
        return HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    }

    /** A file, webhook or exec target for one of the secret's targets, with its health check. */
    public Plugins.Target of(Policy.TargetSpec spec, List<String> secretFields) {
        return of(spec, secretFields, false);
    }

    /**
     * As {@link #of(Policy.TargetSpec, List)}; an {@code urgent} secret's exec targets restart at
     * once, without the splay (its consumers are failing until they have the new value).
     */
    public Plugins.Target of(Policy.TargetSpec spec, List<String> secretFields, boolean urgent) {
        Plugins.Target t;
        if (spec instanceof Policy.TargetSpec.File f) {
            t = new FileTarget(f, secretFields);
        } else if (spec instanceof Policy.TargetSpec.Webhook w) {
            t = new WebhookTarget(w, new SignedPost(http, store, clock), fingerprints);
        } else if (spec instanceof Policy.TargetSpec.Exec e) {
            t = new ExecTarget(e, budget, urgent ? Duration.ZERO : splay, sleeper, random);
        } else {
            throw new IllegalArgumentException("target " + spec.id() + " is not built here: " + spec.getClass().getSimpleName());
        }
        return checked(t, spec);
    }

    /**
     * The targets of a policy's shared files, per secret: each file is one target of every secret
     * its template names (same id), all writing the one file.
     */
    public Map<String, List<Plugins.Target>> sharedFiles(Policy policy) {
        Map<String, SecretPath> paths = new HashMap<>();
        policy.secrets().forEach(s -> paths.put(s.id(), SecretPath.of(s.mount(), s.path())));
        Map<String, List<Plugins.Target>> out = new HashMap<>();
        for (Policy.SharedFile f : policy.files()) {
            SharedFile file = new SharedFile(f, paths, store, budget, SHARED_FILE_SETTLE);
            for (String secretId : f.secretIds()) out.computeIfAbsent(secretId, k -> new ArrayList<>()).add(file.target(secretId));
        }
        return out;
    }

    /** How long a shared file's {@code then} waits for the other secrets of one change to be written too. */
    static final Duration SHARED_FILE_SETTLE = Duration.ofSeconds(1);

    /** Wraps a target (of any package) in the health check its policy gives, if any. */
    public Plugins.Target checked(Plugins.Target t, Policy.TargetSpec spec) {
        return spec.health().isEmpty() ? t : new Checked(t, spec.health().get(), spec.rollback(), http, clock, sleeper);
    }

    /** The notifier of a policy's notify section (the log is always written by the caller). */
    public Plugins.Notifier notifier(Policy.Notify notify) {
        return new WebhookNotifier(notify, new SignedPost(http, store, clock), clock);
    }
}
