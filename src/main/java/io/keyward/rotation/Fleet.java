package io.keyward.rotation;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The fleet's view the core takes as input: which agents serve a secret with targets of their
 * own, and when each was last heard of. Retirement waits for every live one to acknowledge.
 */
@FunctionalInterface
public interface Fleet {

    /** The members serving the secret (this agent may be among them). */
    List<Member> serving(String secretId) throws StoreException;

    /** One agent serving a secret: its id, its last heartbeat, and the ids of its targets for it. */
    record Member(String agent, Instant lastSeen, Set<String> targets) {
        public Member {
            Objects.requireNonNull(agent, "agent");
            Objects.requireNonNull(lastSeen, "lastSeen");
            targets = Set.copyOf(targets);
        }
    }

    /** An agent that knows of no other member. */
    static Fleet alone() {
        return id -> List.of();
    }
}
