package io.keyward.generate;

import io.keyward.policy.Policy;
import io.keyward.rotation.Plugins;
import java.security.SecureRandom;
import java.util.Map;
import java.util.Optional;

/** Builds the generator, issuer and verifiers a policy asks for. */
public final class Generators {

    private final SecureRandom random;
    private final Map<String, String> env;

    /** {@code env}: the environment external programs run with (the agent's own). */
    public Generators(SecureRandom random, Map<String, String> env) {
        this.random = random;
        this.env = Map.copyOf(env);
    }

    /** The generator of a secret, or empty when its issuer mints values. */
    public Optional<Plugins.Generator> generator(Policy.SecretPolicy s) {
        Policy.GeneratorSpec g = s.generator();
        if (g instanceof Policy.GeneratorSpec.Random r) return Optional.of(new RandomGenerator(r, random));
        if (g instanceof Policy.GeneratorSpec.Command c) return Optional.of(new Commands.Generator(c.argv(), c.timeout(), env));
        return Optional.empty();
    }

    public Plugins.Issuer issuer(Policy.IssuerSpec spec) {
        if (spec instanceof Policy.IssuerSpec.Command c) return new Commands.Issuer(c, env);
        throw new IllegalArgumentException("unknown issuer " + spec);
    }

    public Plugins.Verifier verifier(Policy.VerifySpec spec, String field) {
        if (spec instanceof Policy.VerifySpec.Command c) return new Commands.Verifier(c.argv(), c.timeout(), field, env);
        throw new IllegalArgumentException("unknown verify step " + spec);
    }
}
