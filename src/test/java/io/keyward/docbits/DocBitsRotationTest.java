package io.keyward.docbits;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyward.audit.JsonAuditLog;
import io.keyward.policy.Policy;
import io.keyward.rotation.Fingerprinter;
import io.keyward.rotation.Outcome;
import io.keyward.rotation.Plugins;
import io.keyward.rotation.Rotator;
import io.keyward.rotation.SecretBinding;
import io.keyward.rotation.SecretData;
import io.keyward.rotation.SecretPath;
import io.keyward.testing.Leaks;
import io.keyward.testing.TestDirs;
import io.keyward.testing.TestVault;
import io.keyward.testing.VaultExtension;
import io.keyward.vault.VaultClient;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A DocBits key rotated in API mode end to end: real OpenBao, the DocBits simulator, a real file. */
@ExtendWith(VaultExtension.class)
final class DocBitsRotationTest {

    private TestVault vault;
    private DocBitsSimulator sim;
    private VaultClient store;
    private JsonAuditLog audit;
    private Rotator rotator;
    private SecretPath admin;
    private final List<Duration> waits = new java.util.concurrent.CopyOnWriteArrayList<>();

    @BeforeEach
    void setUp(TestVault vault) throws Exception {
        this.vault = vault;
        sim = DocBitsSimulator.start(0, Clock.systemUTC());
        Fingerprinter fp = new Fingerprinter("docbits-test-key-0123456789".getBytes());
        audit = JsonAuditLog.open(TestDirs.fresh("docbits").resolve("audit.jsonl"), "docbits", Clock.systemUTC());
        store = VaultClient.connect(vault.rootSettings(), audit, fp, Clock.systemUTC());
        rotator = Rotator.builder(store, new Rotator.Settings(vault.uniquePath("state"), "docbits-agent", Duration.ofMinutes(1)))
                .audit(audit, fp).waits(waits::add, () -> 0.5).build();
        admin = vault.uniquePath("docbits-admin");
        store.write(admin, SecretData.of("api_key", Leaks.track(sim.createKey("keyward-admin", Set.of("acme")))),
                OptionalInt.empty());
    }

    @AfterEach
    void tearDown() {
        store.close();
        audit.close();
        sim.close();
    }

    @Test
    void apiMode_issuesVerifiesDeliversThenRevokesTheOldKey() throws Exception {
        java.nio.file.Path file = TestDirs.credentials("docbits").resolve("docbits-key");
        SecretBinding b = binding("[acme]", file);

        Outcome first = rotator.rotate(b, true, false, "manual");
        assertThat(first).isInstanceOf(Outcome.Completed.class);
        String k1 = Leaks.track(live(b));
        Outcome second = rotator.rotate(b, true, false, "manual");
        assertThat(second).isInstanceOf(Outcome.Completed.class);
        String k2 = Leaks.track(live(b));

        assertThat(k2).isNotEqualTo(k1);
        assertThat(sim.accepts(k2, "acme")).isTrue();
        assertThat(sim.accepts(k1, "acme")).as("old key revoked after every target acked").isFalse();
        assertThat(java.nio.file.Files.readString(file)).isEqualTo(k2);
        assertThat(sim.requests()).filteredOn(r -> r.path().equals("/document_type/get_document_types"))
                .extracting(DocBitsSimulator.Request::keyHash).containsExactly(DocBitsSimulator.keyHash(k1),
                        DocBitsSimulator.keyHash(k2));
        assertThat(sim.activeKeys()).isEqualTo(2); // the admin key and the live one
    }

    @Test
    void keyThatFailsTheProbe_isRevokedAgain_andTheOldOneStaysLive() throws Exception {
        java.nio.file.Path file = TestDirs.credentials("docbits").resolve("docbits-key");
        assertThat(rotator.rotate(binding("[acme]", file), true, false, "manual")).isInstanceOf(Outcome.Completed.class);
        String k1 = Leaks.track(live(binding("[acme]", file)));
        SecretBinding needsOtherOrg = binding("[acme, initech]", file);

        Outcome o = rotator.rotate(needsOtherOrg, true, false, "manual");

        assertThat(o).isInstanceOf(Outcome.RolledBack.class);
        assertThat(o.describe()).contains("refused the organisation (403").contains("initech");
        assertThat(live(needsOtherOrg)).isEqualTo(k1);
        assertThat(sim.accepts(k1, "acme")).isTrue();
        assertThat(sim.activeKeys()).as("the rejected new key was revoked").isEqualTo(2);
        assertThat(java.nio.file.Files.readString(file)).isEqualTo(k1);
    }

    /**
     * A DocBits that keeps answering 429: each step makes one HTTP call per attempt of the policy
     * (2 here), waiting the Retry-After it was given between them. The issue step fails, and the
     * rollback's own step (asking for the key of that request again, to revoke it) waits for later.
     */
    @Test
    void aServiceAskingToSlowDown_getsOneCallPerPolicyAttempt() throws Exception {
        java.nio.file.Path file = TestDirs.credentials("docbits").resolve("docbits-key");
        SecretBinding b = binding("[acme]", file);
        sim.failNext429(1000);
        int before = sim.calls();
        Outcome o = rotator.rotate(b, true, false, "manual");
        assertThat(o).isInstanceOf(Outcome.Waiting.class);
        assertThat(o.describe()).contains("rolling back").contains("asks to slow down (429)");
        assertThat(sim.calls() - before).isEqualTo(4);
        assertThat(waits).containsExactly(Duration.ofSeconds(1), Duration.ofSeconds(1));
        sim.failNext429(0);
    }

    private String live(SecretBinding b) throws Exception {
        return store.read(b.livePath()).orElseThrow().data().string("api_key").orElseThrow();
    }

    private SecretPath livePath;

    private SecretBinding binding(String orgs, java.nio.file.Path file) throws Exception {
        if (livePath == null) livePath = vault.uniquePath("docbits-eu");
        Policy p = Policy.parse("docbits.yaml", String.join("\n",
                "issuers:",
                io.keyward.testing.DocBitsIssuer.apiMode("docbits-eu", sim.baseUrl(), admin.path()),
                "secrets:",
                "  - id: docbits-eu-key",
                "    path: " + livePath.path(),
                "    fields: [api_key]",
                "    generator: { type: issuer, issuer: docbits-eu }",
                "    schedule: { every: 30d }",
                "    grace: 0s",
                "    attempts: 2",
                "    backoff: { initial: 0s, max: 1s }",
                "    verify:",
                "      - { type: docbits, base_url: \"" + sim.baseUrl() + "\", orgs: " + orgs + " }",
                "    targets:",
                "      - { id: ion-gateway, type: file, path: " + file + " }",
                ""));
        DocBits docbits = new DocBits(DocBits.defaultHttpClient());
        Policy.SecretPolicy s = p.secrets().get(0);
        return new SecretBinding(s, docbits.source((Policy.IssuerSpec.DocBits) p.issuers().get("docbits-eu"), store),
                List.of(docbits.verifier((Policy.VerifySpec.DocBits) s.verify().get(0), "api_key")),
                List.of(new io.keyward.target.Targets(io.keyward.target.Targets.defaultHttpClient(), store,
                        new io.keyward.rotation.Fingerprinter(new byte[32]), java.time.Clock.systemUTC(), d -> { }, () -> 0.5,
                        Policy.Restarts.DEFAULT).of(s.targets().get(0), s.fields())));
    }
}
