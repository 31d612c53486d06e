package io.keyward.rotation;

import io.keyward.policy.Policy;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A secret's policy with the plug-ins that serve it: where new values come from (a generator,
 * or an issuer that mints them), the issuer that accepts and revokes them, verifiers and targets.
 */
public record SecretBinding(Policy.SecretPolicy policy, Optional<Plugins.Generator> generator,
                            Optional<Plugins.Issuer> issuer, List<Plugins.Verifier> verifiers,
                            List<Plugins.Target> targets) {

    public SecretBinding {
        Objects.requireNonNull(policy, "policy");
        verifiers = List.copyOf(verifiers);
        targets = List.copyOf(targets);
        boolean issued = policy.generator() instanceof Policy.GeneratorSpec.Issued;
        if (issued && issuer.isEmpty()) {
            throw new IllegalArgumentException("secret " + policy.id() + " is issued but has no issuer");
        }
        if (!issued && generator.isEmpty()) {
            throw new IllegalArgumentException("secret " + policy.id() + " has no generator");
        }
    }

    public String id() {
        return policy.id();
    }

    public SecretPath livePath() {
        return SecretPath.of(policy.mount(), policy.path());
    }

    /** True when the issuer mints the value (rather than accepting one keyward made). */
    public boolean issued() {
        return policy.generator() instanceof Policy.GeneratorSpec.Issued;
    }

    public String field() {
        return policy.generator().field();
    }
}
