package io.keyward.rotation;

import io.keyward.policy.Policy;
import java.util.List;
import java.util.Objects;

/**
 * A secret's policy with the plug-ins that serve it on this agent: where new values come from,
 * verifiers, and this agent's own targets.
 */
public record SecretBinding(Policy.SecretPolicy policy, KeySource source, List<Plugins.Verifier> verifiers,
                            List<Plugins.Target> targets, String shared) {

    public SecretBinding {
        Objects.requireNonNull(policy, "policy");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(shared, "shared");
        verifiers = List.copyOf(verifiers);
        targets = List.copyOf(targets);
        boolean issued = policy.generator() instanceof Policy.GeneratorSpec.Issued;
        if (issued == source instanceof KeySource.Generated) {
            throw new IllegalArgumentException("secret " + policy.id() + (issued ? " is issued but has a generator"
                    : " is generated but its source is an issuer"));
        }
    }

    /** Bound with the shared part of its policy as the policy alone states it (no issuer details). */
    public SecretBinding(Policy.SecretPolicy policy, KeySource source, List<Plugins.Verifier> verifiers,
                         List<Plugins.Target> targets) {
        this(policy, source, verifiers, targets, Fleet.hash(Policy.sharedPart(policy, java.util.Map.of())));
    }

    /** Bound with the hash of the shared part of its policy, issuer details included. */
    public static SecretBinding of(Policy policy, Policy.SecretPolicy secret, KeySource source,
                                   List<Plugins.Verifier> verifiers, List<Plugins.Target> targets) {
        return new SecretBinding(secret, source, verifiers, targets, Fleet.hash(Policy.sharedPart(secret, policy.issuers())));
    }

    /**
     * True when every new value must reach the consumers at once: a single-key account's old key
     * died when the new one was made, so there is no splay and no grace to wait out.
     */
    public boolean urgent() {
        return source instanceof KeySource.Manual m && m.keys().singleKey();
    }

    /** How long the old value stays valid after the last acknowledgement: none when {@link #urgent()}. */
    public java.time.Duration grace() {
        return urgent() ? java.time.Duration.ZERO : policy.grace();
    }

    public String id() {
        return policy.id();
    }

    public SecretPath livePath() {
        return SecretPath.of(policy.mount(), policy.path());
    }

    public String field() {
        return policy.generator().field();
    }

    /** The ids of this agent's targets. */
    public java.util.Set<String> targetIds() {
        java.util.Set<String> ids = new java.util.TreeSet<>();
        for (Plugins.Target t : targets) ids.add(t.id());
        return ids;
    }
}
