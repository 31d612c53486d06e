package io.keyward.target;

import io.keyward.policy.Policy;
import io.keyward.rotation.Plugins;
import io.keyward.rotation.SecretData;
import io.keyward.rotation.Sleeper;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * A target with a health check: after each delivery the check is polled (every second) until it
 * passes or its wait runs out; only a pass lets the delivery count as acknowledged.
 */
final class Checked implements Plugins.Target {

    private static final Duration POLL = Duration.ofSeconds(1);

    private final Plugins.Target inner;
    private final Policy.HealthSpec health;
    private final boolean rollback;
    private final HttpClient http;
    private final Clock clock;
    private final Sleeper sleeper;

    Checked(Plugins.Target inner, Policy.HealthSpec health, boolean rollback, HttpClient http, Clock clock, Sleeper sleeper) {
        this.inner = inner;
        this.health = health;
        this.rollback = rollback;
        this.http = http;
        this.clock = clock;
        this.sleeper = sleeper;
    }

    @Override
    public String id() {
        return inner.id();
    }

    @Override
    public boolean rollsBack() {
        return rollback;
    }

    @Override
    public void deliver(String secretId, int version, SecretData value) throws IOException {
        inner.deliver(secretId, version, value);
        List<String> hide = Program.values(value);
        Instant deadline = clock.instant().plus(health.within());
        String last;
        while (true) {
            last = check(secretId, version, hide);
            if (last == null) return;
            if (!clock.instant().isBefore(deadline)) break;
            try {
                sleeper.sleep(POLL);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("target " + id() + ": interrupted during its health check");
            }
        }
        throw new Plugins.Unhealthy("target " + id() + " took v" + version + " but its health check failed"
                + (health.within().isZero() ? "" : " for " + health.within().toSeconds() + "s") + ": " + last,
                last.endsWith(REFUSED));
    }

    @Override
    public java.util.Optional<Boolean> holds(String secretId, int version, SecretData value) throws IOException {
        return inner.holds(secretId, version, value);
    }

    @Override
    public boolean reloads() {
        return inner.reloads();
    }

    @Override
    public String address() {
        return inner.address();
    }

    /** Only a health check that passed counts: holding the value is not enough. */
    @Override
    public boolean readBackSuffices() {
        return false;
    }

    @Override
    public void restore(String secretId, int version, SecretData value) throws IOException {
        inner.deliver(secretId, version, value);
    }

    /** How a 401 answer ends what was wrong: the consumer says its key is not taken. */
    private static final String REFUSED = " (the consumer's key is refused)";

    /** Null when healthy, else what was wrong. */
    private String check(String secretId, int version, List<String> hide) {
        try {
            if (health instanceof Policy.HealthSpec.Http h) {
                HttpResponse<Void> r = http.send(HttpRequest.newBuilder(h.url()).timeout(h.timeout()).GET().build(),
                        HttpResponse.BodyHandlers.discarding());
                return r.statusCode() / 100 == 2 ? null : h.url() + " answered HTTP " + r.statusCode()
                        + (r.statusCode() == 401 ? REFUSED : "");
            }
            Policy.HealthSpec.Command c = (Policy.HealthSpec.Command) health;
            int exit = Program.run("health check of " + id(), c.argv(), Program.env(secretId, version, id()), c.timeout(), hide);
            return exit == 0 ? null : c.argv().get(0) + " exited with " + exit;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        } catch (IOException e) {
            return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
        }
    }

    @Override
    public String toString() {
        return inner + "+health";
    }
}
