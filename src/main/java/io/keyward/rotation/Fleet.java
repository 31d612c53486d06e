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

    /** The members serving the secret (this agent may be among them), from records read lately. */
    List<Member> serving(String secretId) throws StoreException;

    /**
     * The members serving the secret from records read now, whatever was read before: what a
     * decision that a member is silent needs, since a member may have come back since a read.
     */
    default List<Member> servingNow(String secretId) throws StoreException {
        return serving(secretId);
    }

    /**
     * One agent serving a secret: its id, its last heartbeat, the ids of its targets for it, the
     * hash of the shared part of its policy for it (null when its record has none), and when its
     * record was read: a member is silent only if it had been silent past the timeout then.
     */
    record Member(String agent, Instant lastSeen, Set<String> targets, String policy, Instant readAt) {
        public Member {
            Objects.requireNonNull(agent, "agent");
            Objects.requireNonNull(lastSeen, "lastSeen");
            Objects.requireNonNull(readAt, "readAt");
            targets = Set.copyOf(targets);
        }

        /** A record read the moment it was written. */
        public Member(String agent, Instant lastSeen, Set<String> targets, String policy) {
            this(agent, lastSeen, targets, policy, lastSeen);
        }

        public Member(String agent, Instant lastSeen, Set<String> targets) {
            this(agent, lastSeen, targets, null);
        }
    }

    /** The hash members compare: SHA-256 of the shared part of a secret's policy, first 16 hex digits. */
    static String hash(String sharedPart) {
        try {
            byte[] d = java.security.MessageDigest.getInstance("SHA-256")
                    .digest(sharedPart.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return java.util.HexFormat.of().formatHex(d, 0, 8);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available in this JVM", e);
        }
    }

    /** An agent that knows of no other member. */
    static Fleet alone() {
        return id -> List.of();
    }
}
