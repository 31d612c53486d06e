package io.keyward.docbits;

/**
 * Whether DocBits still takes a secret's live key, from one probe to the next: a pure decision.
 * A refused key is announced ({@code dead}) once when it becomes refused, not at every probe; a
 * probe that got no answer changes nothing.
 */
public final class LiveKey {

    private LiveKey() {}

    /** What keyward knows of the live key. */
    public enum State { UNKNOWN, ACCEPTED, REFUSED }

    /** What one probe found: the key taken, refused (401), or no answer (DocBits down, 5xx, 429). */
    public enum Probe { ACCEPTED, REFUSED, NO_ANSWER }

    /** The state after a probe, and whether to announce the key dead or back. */
    public record Step(State next, boolean announceDead, boolean announceBack) {}

    public static Step next(State before, Probe probe) {
        return switch (probe) {
            case ACCEPTED -> new Step(State.ACCEPTED, false, before == State.REFUSED);
            case REFUSED -> new Step(State.REFUSED, before != State.REFUSED, false);
            case NO_ANSWER -> new Step(before, false, false);
        };
    }

    /** The notice's words for a refused live key: what happened and what to do. */
    public static String deadDetail(String secretId) {
        return "the live DocBits key for " + secretId + " is refused (regenerated or revoked in DocBits' settings?); "
                + "paste the new one: keyward submit " + secretId;
    }
}
