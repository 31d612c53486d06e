package io.keyward.rotation;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What proves that a target holds a version, and which ledger entries are not this agent's record of this Vault. */
final class EvidenceTest {

    private static final String FP = "hmac-sha256:aa";
    private static final Ledger.Delivery RECORDED = new Ledger.Delivery(4, FP, "webhook https://app/keys");

    @Test
    void holds_aPlainFile_byItsContentAlone_whateverTheLedgerSays() {
        assertThat(Evidence.holds(Optional.of(true), true, null, 4, FP, "file /k")).isTrue();
        assertThat(Evidence.holds(Optional.of(false), true, new Ledger.Delivery(4, FP, "file /k"), 4, FP, "file /k")).isFalse();
    }

    @Test
    void holds_aTargetThatCannotBeReadBack_onlyByTheRecordOfThisVersionValueAndAddress() {
        assertThat(Evidence.holds(Optional.empty(), false, RECORDED, 4, FP, "webhook https://app/keys")).isTrue();
        assertThat(Evidence.holds(Optional.empty(), false, null, 4, FP, "webhook https://app/keys")).isFalse();
        assertThat(Evidence.holds(Optional.empty(), false, RECORDED, 5, FP, "webhook https://app/keys")).as("a newer version").isFalse();
        assertThat(Evidence.holds(Optional.empty(), false, RECORDED, 3, FP, "webhook https://app/keys")).as("an older one").isFalse();
        assertThat(Evidence.holds(Optional.empty(), false, RECORDED, 4, "hmac-sha256:bb", "webhook https://app/keys"))
                .as("the same version number with another value (another Vault, an earlier life)").isFalse();
        assertThat(Evidence.holds(Optional.empty(), false, RECORDED, 4, FP, "webhook https://new/keys")).as("moved").isFalse();
        assertThat(Evidence.holds(Optional.empty(), false, new Ledger.Delivery(4, FP, null), 4, FP, "webhook https://app/keys"))
                .as("a record with no address").isFalse();
    }

    @Test
    void holds_aFileWithAReloadOrHealthCheck_needsItsContentAndTheRecord() {
        Ledger.Delivery rec = new Ledger.Delivery(4, FP, "file /k");
        assertThat(Evidence.holds(Optional.of(true), false, rec, 4, FP, "file /k")).isTrue();
        assertThat(Evidence.holds(Optional.of(true), false, null, 4, FP, "file /k")).as("written, reload never ran").isFalse();
        assertThat(Evidence.holds(Optional.of(false), false, rec, 4, FP, "file /k")).as("edited by hand").isFalse();
    }

    @Test
    void foreign_namesTheOtherVault_theVersionAhead_orTheOtherValue() {
        Ledger.Entry mine = new Ledger.Entry(Map.of("app", new Ledger.Delivery(3, FP, "file /k")), "r1", "kw-1");
        assertThat(Evidence.foreign(mine, "kw-1", 3, Map.of(3, FP))).isEmpty();
        assertThat(Evidence.foreign(mine, "kw-1", 5, Map.of(5, "hmac-sha256:new"))).as("Vault moved on: the ledger is behind")
                .isEmpty();
        assertThat(Evidence.foreign(mine, "kw-1", 2, Map.of(2, "hmac-sha256:old", 3, FP)))
                .as("a live read behind (a standby): Vault has v3 as recorded").isEmpty();
        assertThat(Evidence.foreign(Ledger.Entry.EMPTY, "kw-1", 1, Map.of(1, FP))).isEmpty();

        assertThat(Evidence.foreign(mine, "kw-2", 3, Map.of(3, FP))).get().asString()
                .contains("another Vault", "installation kw-1", "this one is kw-2");
        assertThat(Evidence.foreign(mine, "kw-1", 2, Map.of(2, FP))).get().asString()
                .contains("v3 delivered to target app, ahead of Vault's v2");
        assertThat(Evidence.foreign(mine, "kw-1", 2, Map.of(2, FP, 3, "hmac-sha256:other"))).get().asString()
                .contains("v3 delivered to target app with another value than Vault's v3");
        assertThat(Evidence.foreign(mine, "kw-1", 3, Map.of(3, "hmac-sha256:other"))).get().asString()
                .contains("v3 delivered to target app with another value than Vault's v3");
        assertThat(Evidence.foreign(new Ledger.Entry(Map.of("app", RECORDED), null, null), "kw-1", 9, Map.of(9, FP))).get()
                .asString().contains("names no Vault");
    }

    @Test
    void above_namesTheVersionsBeyondTheLiveOne() {
        Ledger.Entry e = new Ledger.Entry(Map.of("a", new Ledger.Delivery(3, FP, "x"), "b", new Ledger.Delivery(5, FP, "y"),
                "c", new Ledger.Delivery(2, FP, "z")), null, "kw-1");
        assertThat(Evidence.above(e, 3)).containsExactly(5);
        assertThat(Evidence.above(e, 1)).containsExactly(2, 3, 5);
    }
}
