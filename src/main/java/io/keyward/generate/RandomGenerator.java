package io.keyward.generate;

import io.keyward.policy.Policy;
import io.keyward.rotation.Plugins;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/** Random characters from the allowed classes, at least the minimum of each, shuffled, after a prefix. */
final class RandomGenerator implements Plugins.Generator {

    private final Policy.GeneratorSpec.Random spec;
    private final SecureRandom random;
    private final String alphabet;

    RandomGenerator(Policy.GeneratorSpec.Random spec, SecureRandom random) {
        this.spec = spec;
        this.random = random;
        StringBuilder all = new StringBuilder();
        for (Policy.CharClass c : spec.minimum().keySet()) all.append(c.alphabet);
        this.alphabet = all.toString();
        if (alphabet.isEmpty()) throw new IllegalArgumentException("random generator without character classes");
    }

    @Override
    public String generate() {
        int count = spec.length() - spec.prefix().length();
        List<Character> chars = new ArrayList<>(count);
        for (Map.Entry<Policy.CharClass, Integer> m : spec.minimum().entrySet()) {
            for (int i = 0; i < m.getValue(); i++) chars.add(pick(m.getKey().alphabet));
        }
        while (chars.size() < count) chars.add(pick(alphabet));
        Collections.shuffle(chars, random);
        StringBuilder out = new StringBuilder(spec.length()).append(spec.prefix());
        chars.forEach(out::append);
        return out.toString();
    }

    private char pick(String from) {
        return from.charAt(random.nextInt(from.length()));
    }

    @Override
    public String toString() {
        return "RandomGenerator[length=" + spec.length() + ", classes=" + spec.minimum().keySet() + "]";
    }
}
