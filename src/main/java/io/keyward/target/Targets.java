package io.keyward.target;

import io.keyward.policy.Policy;
import io.keyward.rotation.Plugins;

/** Builds the target a policy describes. */
public final class Targets {

    private Targets() {}

    public static Plugins.Target of(Policy.TargetSpec spec) {
        if (spec instanceof Policy.TargetSpec.File f) return new FileTarget(f);
        throw new IllegalArgumentException("unknown target " + spec.id());
    }
}
