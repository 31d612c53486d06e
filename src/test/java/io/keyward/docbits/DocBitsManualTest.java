package io.keyward.docbits;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyward.audit.JsonAuditLog;
import io.keyward.policy.Policy;
import io.keyward.rotation.Fingerprinter;
import io.keyward.rotation.Outcome;
import io.keyward.rotation.Phase;
import io.keyward.rotation.Plugins;
import io.keyward.rotation.Rotator;
import io.keyward.rotation.SecretBinding;
import io.keyward.rotation.SecretData;
import io.keyward.rotation.SecretPath;
import io.keyward.target.Targets;
import io.keyward.testing.Leaks;
import io.keyward.testing.MutableClock;
import io.keyward.testing.Receiver;
import io.keyward.testing.TestDirs;
import io.keyward.testing.TestVault;
import io.keyward.testing.VaultExtension;
import io.keyward.vault.VaultClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import tools.jackson.databind.json.JsonMapper;

/**
 * DocBits in manual mode, as its documentation describes it: a person creates and revokes keys in
 * the settings; keyward announces, verifies, delivers and reports. Real OpenBao, the simulator, a
 * real file target and a real notification receiver that checks every signature.
 */
@ExtendWith(VaultExtension.class)
final class DocBitsManualTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final MutableClock clock = new MutableClock(Instant.now());
    private final Path file = TestDirs.credentials("docbits-manual").resolve("ion-key");
    private TestVault vault;
    private DocBitsSimulator sim;
    private VaultClient store;
    private JsonAuditLog audit;
    private Receiver alerts;
    private Rotator rotator;
    private SecretBinding b;
    private Targets targets;

    @BeforeEach
    void setUp(TestVault vault) throws Exception {
        this.vault = vault;
        sim = DocBitsSimulator.start(0, clock);
        Fingerprinter fp = new Fingerprinter("docbits-manual-key-0123456789".getBytes());
        audit = JsonAuditLog.open(TestDirs.fresh("docbits-manual").resolve("audit.jsonl"), "manual", Clock.systemUTC());
        store = VaultClient.connect(vault.rootSettings(), audit, fp, Clock.systemUTC());
        SecretPath admin = vault.uniquePath("docbits-admin");
        store.write(admin, SecretData.of("api_key", Leaks.track(sim.createKey("keyward-usage", Set.of("acme")))),
                OptionalInt.empty());
        String hmac = Leaks.secret("notify");
        SecretPath notifyKey = vault.uniquePath("notify");
        store.write(notifyKey, SecretData.of("hmac_key", hmac), OptionalInt.empty());
        alerts = Receiver.start(hmac);
        SecretPath live = vault.uniquePath("docbits-us");
        Policy p = Policy.parse("manual.yaml", String.join("\n",
                "notify:",
                "  url: \"" + alerts.url("/alerts") + "\"",
                "  signing_key: { path: " + notifyKey.path() + " }",
                "issuers:",
                "  docbits-us:",
                "    type: docbits",
                "    mode: manual",
                "    base_url: \"" + sim.baseUrl() + "\"",
                "    org: acme",
                "    notice: 14d",
                "    auth: { path: " + admin.path() + " }",
                "    usage: { path: \"/api_keys/usage?prefix={key_prefix}\" }",
                "    quiet: 10m",
                "secrets:",
                "  - id: docbits-us-key",
                "    path: " + live.path(),
                "    fields: [api_key]",
                "    generator: { type: issuer, issuer: docbits-us }",
                "    schedule: { every: 90d }",
                "    grace: 1h",
                "    attempts: 2",
                "    backoff: { initial: 0s, max: 1s }",
                "    verify:",
                "      - { type: docbits, base_url: \"" + sim.baseUrl() + "\", orgs: [acme] }",
                "    targets:",
                "      - { id: ion-gateway, type: file, path: " + file + " }",
                ""));
        DocBits docbits = new DocBits(DocBits.defaultHttpClient());
        targets = new Targets(Targets.defaultHttpClient(), store, fp, clock, d -> { }, () -> 0.5, p.restarts());
        Policy.SecretPolicy s = p.secrets().get(0);
        b = new SecretBinding(s, docbits.source((Policy.IssuerSpec.DocBits) p.issuers().get("docbits-us"), store),
                List.of(docbits.verifier((Policy.VerifySpec.DocBits) s.verify().get(0), "api_key")),
                List.of(targets.of(s.targets().get(0), s.fields())));
        rotator = Rotator.builder(store, new Rotator.Settings(vault.uniquePath("state"), "manual-agent", Duration.ofMinutes(1)))
                .audit(audit, fp).clock(clock).waits(d -> { }, () -> 0.5)
                .notifier(targets.notifier(p.notifications().orElseThrow()), Runnable::run).build();
    }

    @AfterEach
    void tearDown() {
        store.close();
        audit.close();
        sim.close();
        alerts.close();
    }

    @Test
    void manualFlow_dueSubmitDeliverRevocableConfirm_thenProbeSeesTheRevocation() throws Exception {
        // The key in use today, made by a person and pasted into Vault; the first sync delivers it.
        String k1 = Leaks.track(sim.createKey("ion-2026-08", Set.of("acme")));
        store.write(b.livePath(), SecretData.of("api_key", k1), OptionalInt.empty());
        assertThat(rotator.sync(b)).isInstanceOf(Outcome.Completed.class);
        assertThat(Files.readString(file).equals(k1)).isTrue();

        // Not due for 90 days, announced 14 days ahead: nothing yet; then due, announced once.
        assertThat(rotator.rotate(b, false, false, "schedule").describe()).contains("not due until");
        clock.advance(Duration.ofDays(77));
        Outcome due = rotator.rotate(b, false, false, "schedule");
        assertThat(due).isInstanceOf(Outcome.AwaitingPerson.class);
        assertThat(due.describe()).contains("waiting for a person").contains("keyward submit docbits-us-key");
        rotator.rotate(b, false, false, "schedule");
        assertThat(events()).containsExactly("due");

        // The person creates k2 in DocBits and hands it over.
        String k2 = Leaks.track(sim.createKey("ion-2026-11", Set.of("acme")));
        Outcome submitted = rotator.submit(b, k2, false);
        assertThat(submitted).isInstanceOf(Outcome.Waiting.class);
        assertThat(((Outcome.Waiting) submitted).phase()).isEqualTo(Phase.DELIVERED);
        assertThat(Files.readString(file)).isEqualTo(k2);
        assertThat(sim.requests()).filteredOn(r -> r.path().equals("/document_type/get_document_types"))
                .extracting(DocBitsSimulator.Request::keyHash).contains(DocBitsSimulator.keyHash(k2));

        // Confirming during the grace period is allowed (every target has k2), but keyward waits to say so.
        assertThat(events()).containsExactly("due");
        clock.advance(Duration.ofHours(1).plusSeconds(1));
        Outcome revocable = rotator.resume(b);
        assertThat(revocable.describe()).contains("may now be revoked in DocBits' settings")
                .contains("keyward confirm-revoked docbits-us-key");
        assertThat(events()).containsExactly("due", "revocable");
        assertThat(sim.accepts(k1, "acme")).as("keyward never revokes a manual key").isTrue();

        sim.revoke(k1);
        assertThat(rotator.confirmRevoked(b)).isInstanceOf(Outcome.Completed.class);
        assertThat(rotator.journal(b.id()).orElseThrow().entry().phase()).isEqualTo(Phase.RETIRED);

        // Next round: the person pastes k3 into Vault instead; the watch delivers it, and the
        // probe seeing the revoked k2 closes the rotation without a confirmation.
        String k3 = Leaks.track(sim.createKey("ion-2027-02", Set.of("acme")));
        store.write(b.livePath(), SecretData.of("api_key", k3), OptionalInt.empty());
        Outcome synced = rotator.sync(b);
        assertThat(synced).isInstanceOf(Outcome.Waiting.class);
        assertThat(Files.readString(file)).isEqualTo(k3);
        clock.advance(Duration.ofHours(1).plusSeconds(1));
        assertThat(rotator.resume(b).describe()).contains("may now be revoked");
        sim.revoke(k2);
        clock.advance(Duration.ofMinutes(6));
        assertThat(rotator.resume(b)).isInstanceOf(Outcome.Completed.class);

        assertThat(alerts.requests()).isNotEmpty().allMatch(Receiver.Request::signed);
        assertThat(auditText()).contains("rotation.due", "rotation.revocable", "rotation.revoke_confirmed")
                .doesNotContain(k1, k2, k3);
    }

    @Test
    void aConsumerStillUsingTheOldKey_blocksTheRevocableReport() throws Exception {
        String k1 = Leaks.track(sim.createKey("old", Set.of("acme")));
        store.write(b.livePath(), SecretData.of("api_key", k1), OptionalInt.empty());
        rotator.sync(b);
        String k2 = Leaks.track(sim.createKey("new", Set.of("acme")));
        rotator.submit(b, k2, false);

        // Some consumer keyward does not know about keeps calling DocBits with k1.
        clock.advance(Duration.ofHours(1).plusSeconds(1));
        new DocBits(DocBits.defaultHttpClient()).client(sim.baseUrl(), Duration.ofSeconds(5)).probe(k1, "acme");
        Outcome blocked = rotator.resume(b);
        assertThat(blocked).isInstanceOf(Outcome.Waiting.class);
        assertThat(blocked.describe()).contains("still used").contains("a consumer still holds it");
        assertThat(events()).containsExactly("degraded");

        // Ten quiet minutes later (by the simulator's record) it is reported revocable.
        clock.advance(Duration.ofMinutes(11));
        assertThat(rotator.resume(b).describe()).contains("may now be revoked");
        assertThat(events()).containsExactly("degraded", "revocable");
    }

    @Test
    void aSubmittedKeyDocBitsRefuses_isRolledBack_andTheOldKeyStays() throws Exception {
        String k1 = Leaks.track(sim.createKey("old", Set.of("acme")));
        store.write(b.livePath(), SecretData.of("api_key", k1), OptionalInt.empty());
        rotator.sync(b);

        Outcome o = rotator.submit(b, Leaks.secret("dbk_typo"), false);

        assertThat(o).isInstanceOf(Outcome.RolledBack.class);
        assertThat(o.describe()).contains("did not accept the key (401").contains("revoke it in DocBits' settings");
        assertThat(store.read(b.livePath()).orElseThrow().data().string("api_key")).contains(k1);
        assertThat(Files.readString(file)).isEqualTo(k1);
        assertThat(events()).containsExactly("failed");
        assertThat(rotator.submit(b, k1, false).describe()).contains("already live");
    }

    @Test
    void aVersionPastedIntoVaultThatDocBitsRefuses_isNeverDelivered_andAlertedOnce() throws Exception {
        String k1 = Leaks.track(sim.createKey("old", Set.of("acme")));
        store.write(b.livePath(), SecretData.of("api_key", k1), OptionalInt.empty());
        rotator.sync(b);
        store.write(b.livePath(), SecretData.of("api_key", Leaks.secret("dbk_wrong")), OptionalInt.empty());

        assertThat(rotator.sync(b)).isInstanceOf(Outcome.RolledBack.class);
        assertThat(rotator.sync(b).describe()).contains("refused earlier");
        assertThat(Files.readString(file)).isEqualTo(k1);
        assertThat(events()).containsExactly("rejected");
    }

    @Test
    void singleKeyAccount_isAskedToRegenerateAndSubmitAtOnce_andNeedsNoConfirmation() throws Exception {
        SecretPath live = vault.uniquePath("docbits-single");
        Policy p = Policy.parse("single.yaml", String.join("\n",
                "issuers:",
                "  docbits-erp: { type: docbits, mode: manual, keys: single, base_url: \"" + sim.baseUrl() + "\", org: acme,"
                        + " notice: 14d }",
                "secrets:",
                "  - id: erp-key",
                "    path: " + live.path(),
                "    fields: [api_key]",
                "    generator: { type: issuer, issuer: docbits-erp }",
                "    schedule: { every: 90d }",
                "    grace: 1h",
                "    targets: [{ id: erp, type: file, path: " + file + " }]",
                ""));
        Policy.SecretPolicy s = p.secrets().get(0);
        SecretBinding single = new SecretBinding(s, new DocBits(DocBits.defaultHttpClient())
                .source((Policy.IssuerSpec.DocBits) p.issuers().get("docbits-erp"), store), List.of(),
                List.of(targets.of(s.targets().get(0), s.fields(), true)));
        String k1 = Leaks.track(sim.createKey("erp", Set.of("acme")));
        store.write(single.livePath(), SecretData.of("api_key", k1), OptionalInt.empty());
        assertThat(rotator.sync(single)).isInstanceOf(Outcome.Delivered.class);

        clock.advance(Duration.ofDays(77));
        Outcome due = rotator.rotate(single, false, false, "schedule");
        assertThat(due).isInstanceOf(Outcome.AwaitingPerson.class);
        assertThat(due.describe()).contains("regenerate the key in DocBits' settings, then run 'keyward submit erp-key' at once")
                .doesNotContain("create a new key");

        String k2 = Leaks.track(sim.regenerate(k1).orElseThrow());
        Outcome done = rotator.submit(single, k2, false);
        assertThat(done).as("no grace, and the dead old key needs no confirm-revoked").isInstanceOf(Outcome.Completed.class);
        assertThat(((Outcome.Completed) done).outage()).isPresent();
        assertThat(Files.readString(file).equals(k2)).isTrue();
    }

    private List<String> events() {
        return alerts.requests().stream().map(r -> JSON.readTree(r.body()).get("event").asString()).toList();
    }

    private String auditText() throws Exception {
        return Files.readString(audit.file());
    }
}
