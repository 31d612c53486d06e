package io.keyward.vault;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/** The newest X-Vault-Index kept: OpenBao's of one cluster by value, another cluster's or another form as the latest. */
final class ReadIndexTest {

    private static String bao(String cluster, long value) {
        return Base64.getEncoder().encodeToString(("{\"cluster\":\"" + cluster + "\",\"value\":\"" + value + "\"}")
                .getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void noneSeen_sendsNone() {
        ReadIndex i = new ReadIndex();
        i.seen(null);
        i.seen(" ");
        assertThat(i.current()).isNull();
    }

    @Test
    void ofOneCluster_theHighestValueWins_whateverTheOrderOfAnswers() {
        ReadIndex i = new ReadIndex();
        i.seen(bao("c1", 40));
        i.seen(bao("c1", 45));
        i.seen(bao("c1", 41)); // an answer from a standby further behind
        assertThat(i.current()).isEqualTo(bao("c1", 45));
    }

    @Test
    void anotherCluster_replacesIt() {
        ReadIndex i = new ReadIndex();
        i.seen(bao("old", 900));
        i.seen(bao("rebuilt", 3));
        assertThat(i.current()).isEqualTo(bao("rebuilt", 3));
    }

    @Test
    void anIndexInAnotherForm_isKeptAsTheLatestSeen() {
        ReadIndex i = new ReadIndex();
        i.seen(bao("c1", 7));
        i.seen("v1:enterprise-state");
        assertThat(i.current()).isEqualTo("v1:enterprise-state");
        i.seen(bao("c1", 2));
        assertThat(i.current()).isEqualTo(bao("c1", 2));
    }
}
