package io.keyward.docbits;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyward.docbits.LiveKey.Probe;
import io.keyward.docbits.LiveKey.State;
import io.keyward.docbits.LiveKey.Step;
import org.junit.jupiter.api.Test;

/** The live-key decision, over every state and probe result. */
final class LiveKeyTest {

    @Test
    void aRefusedKey_isAnnouncedDeadOnce_andBackOnceItIsTakenAgain() {
        assertThat(LiveKey.next(State.UNKNOWN, Probe.ACCEPTED)).isEqualTo(new Step(State.ACCEPTED, false, false));
        assertThat(LiveKey.next(State.ACCEPTED, Probe.ACCEPTED)).isEqualTo(new Step(State.ACCEPTED, false, false));
        assertThat(LiveKey.next(State.REFUSED, Probe.ACCEPTED)).isEqualTo(new Step(State.ACCEPTED, false, true));

        assertThat(LiveKey.next(State.UNKNOWN, Probe.REFUSED)).isEqualTo(new Step(State.REFUSED, true, false));
        assertThat(LiveKey.next(State.ACCEPTED, Probe.REFUSED)).isEqualTo(new Step(State.REFUSED, true, false));
        assertThat(LiveKey.next(State.REFUSED, Probe.REFUSED)).as("not at every probe").isEqualTo(new Step(State.REFUSED, false, false));
    }

    @Test
    void noAnswer_changesNothing() {
        for (State s : State.values()) assertThat(LiveKey.next(s, Probe.NO_ANSWER)).isEqualTo(new Step(s, false, false));
    }

    @Test
    void theNotice_saysWhatHappenedAndWhatToDo() {
        assertThat(LiveKey.deadDetail("docbits-us-key")).isEqualTo("the live DocBits key for docbits-us-key is refused "
                + "(regenerated or revoked in DocBits' settings?); paste the new one: keyward submit docbits-us-key");
    }
}
