package io.keyward.policy;

import java.util.List;
import java.util.stream.Collectors;

/** A configuration or policy file that cannot be used; carries every problem found in it. */
public final class ConfigException extends Exception {

    private final List<Problem> problems;

    public ConfigException(List<Problem> problems) {
        super(describe(problems));
        this.problems = List.copyOf(problems);
    }

    public List<Problem> problems() {
        return problems;
    }

    private static String describe(List<Problem> problems) {
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("a ConfigException needs at least one problem");
        }
        if (problems.size() == 1) {
            return problems.get(0).toString();
        }
        return problems.size() + " problems:\n" + problems.stream().sorted()
                .map(p -> "  " + p).collect(Collectors.joining("\n"));
    }
}
