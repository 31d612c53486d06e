package io.keyward.target;

import io.keyward.policy.Policy;
import io.keyward.rotation.Plugins;
import io.keyward.rotation.SecretData;
import io.keyward.rotation.Sleeper;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.function.DoubleSupplier;

/**
 * Runs a command after the value changed (typically {@code systemctl reload app} after a file
 * target), with KEYWARD_SECRET_ID, KEYWARD_VERSION and KEYWARD_TARGET in its environment but never
 * the value. Commands of all secrets share a budget: at most N run at once, each after a random
 * splay, so a wave of rotations does not restart every service together.
 */
final class ExecTarget implements Plugins.Target {

    private final Policy.TargetSpec.Exec spec;
    private final Semaphore budget;
    private final Duration splay;
    private final Sleeper sleeper;
    private final DoubleSupplier random;

    ExecTarget(Policy.TargetSpec.Exec spec, Semaphore budget, Duration splay, Sleeper sleeper, DoubleSupplier random) {
        this.spec = spec;
        this.budget = budget;
        this.splay = splay;
        this.sleeper = sleeper;
        this.random = random;
    }

    @Override
    public String id() {
        return spec.id();
    }

    @Override
    public boolean reloads() {
        return true;
    }

    @Override
    public void deliver(String secretId, int version, SecretData value) throws IOException {
        String what = "exec target " + spec.id();
        try {
            sleeper.sleep(Duration.ofMillis((long) (splay.toMillis() * random.getAsDouble())));
            budget.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(what + ": interrupted");
        }
        int exit;
        try {
            exit = Program.run(what, spec.argv(), Program.env(secretId, version, spec.id()), spec.timeout(),
                    Program.values(value));
        } finally {
            budget.release();
        }
        if (exit != 0) {
            throw new IOException(what + ": " + spec.argv().get(spec.shell() ? 2 : 0) + " exited with " + exit);
        }
    }

    @Override
    public String address() {
        return "exec " + String.join(" ", spec.argv());
    }

    @Override
    public String toString() {
        return "ExecTarget[" + spec.id() + " " + spec.argv().get(0) + "]";
    }
}
