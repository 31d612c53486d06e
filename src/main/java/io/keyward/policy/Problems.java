package io.keyward.policy;

import java.util.ArrayList;
import java.util.List;

/** Collects problems while a file is read, so that all of them are reported at once. */
public final class Problems {

    private final List<Problem> list = new ArrayList<>();

    public void add(YamlNode.Mark mark, String message, String fix) {
        list.add(new Problem(mark, message, fix));
    }

    public void add(YamlNode.Mark mark, String message) {
        add(mark, message, null);
    }

    public boolean isEmpty() {
        return list.isEmpty();
    }

    public List<Problem> list() {
        return List.copyOf(list);
    }

    /** Throws if anything was collected. */
    public void throwIfAny() throws ConfigException {
        if (!list.isEmpty()) {
            throw new ConfigException(list);
        }
    }
}
