package io.keyward.daemon;

import io.keyward.audit.AuditKey;
import io.keyward.audit.JsonAuditLog;
import io.keyward.docbits.DocBits;
import io.keyward.generate.Generators;
import io.keyward.policy.Policy;
import io.keyward.rotation.Fingerprinter;
import io.keyward.rotation.Plugins;
import io.keyward.rotation.Rotator;
import io.keyward.rotation.SecretBinding;
import io.keyward.rotation.Sleeper;
import io.keyward.target.Targets;
import io.keyward.vault.VaultClient;
import java.io.IOException;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A running keyward: audit log, Vault session, and the rotator with every secret of the policy
 * bound to its generator, issuer, verifiers and targets. Commands and the daemon share it.
 */
public final class Agent implements AutoCloseable {

    private static final org.slf4j.Logger NOTICES = org.slf4j.LoggerFactory.getLogger("keyward.notice");

    private final AgentConfig config;
    private final Policy policy;
    private final JsonAuditLog audit;
    private final VaultClient vault;
    private final Rotator rotator;
    private final Map<String, SecretBinding> bindings;

    private Agent(AgentConfig config, Policy policy, JsonAuditLog audit, VaultClient vault, Rotator rotator,
                  Map<String, SecretBinding> bindings) {
        this.config = config;
        this.policy = policy;
        this.audit = audit;
        this.vault = vault;
        this.rotator = rotator;
        this.bindings = bindings;
    }

    /** Opens the audit log, logs in to Vault and binds the policy. */
    public static Agent start(AgentConfig config, Policy policy, Clock clock, Plugins.PhaseListener listener,
                              Map<String, String> env)
            throws IOException {
        SecureRandom random = new SecureRandom();
        byte[] key = AuditKey.loadOrCreate(config.audit().hmacKeyFile(), random);
        Fingerprinter fingerprints = new Fingerprinter(key);
        JsonAuditLog audit = JsonAuditLog.open(config.audit().file(), config.agentId(), clock);
        VaultClient vault;
        try {
            vault = VaultClient.connect(config.vault(), audit, fingerprints, clock);
        } catch (IOException e) {
            audit.close();
            throw e;
        }
        Targets targets = new Targets(Targets.defaultHttpClient(), vault, fingerprints, clock, Sleeper.system(),
                () -> ThreadLocalRandom.current().nextDouble(), policy.restarts());
        Rotator rotator = new Rotator(vault, audit, fingerprints, clock, Sleeper.system(),
                () -> ThreadLocalRandom.current().nextDouble(),
                new Rotator.Settings(config.state(), config.agentId(), config.lease()), listener,
                notifier(policy, targets));
        return new Agent(config, policy, audit, vault, rotator,
                bind(policy, new Generators(random, env), new DocBits(DocBits.defaultHttpClient(), Sleeper.system()),
                        targets, vault));
    }

    /** Every announcement goes to the log; those the policy's notify section names also to its webhook. */
    static Plugins.Notifier notifier(Policy policy, Targets targets) {
        Optional<Plugins.Notifier> hook = policy.notifications().map(targets::notifier);
        return n -> {
            NOTICES.warn("{} {}{}: {}", n.kind(), n.secretId(), n.version() > 0 ? " v" + n.version() : "", n.detail());
            hook.ifPresent(h -> h.announce(n));
        };
    }

    /** Binds every secret of a policy to its plug-ins. */
    static Map<String, SecretBinding> bind(Policy policy, Generators generators, DocBits docbits, Targets targetFactory,
                                           io.keyward.rotation.SecretStore store) {
        Map<String, Plugins.Issuer> issuers = new LinkedHashMap<>();
        policy.issuers().forEach((name, spec) -> issuers.put(name, spec instanceof Policy.IssuerSpec.DocBits d
                ? docbits.issuer(d, store) : generators.issuer(spec)));
        Map<String, SecretBinding> out = new LinkedHashMap<>();
        for (Policy.SecretPolicy s : policy.secrets()) {
            Optional<String> issuerName = s.generator() instanceof Policy.GeneratorSpec.Issued i
                    ? Optional.of(i.issuer()) : s.issuer();
            List<Plugins.Verifier> verifiers = new ArrayList<>();
            s.verify().forEach(v -> verifiers.add(v instanceof Policy.VerifySpec.DocBits d
                    ? docbits.verifier(d, s.generator().field()) : generators.verifier(v, s.generator().field())));
            List<Plugins.Target> targets = new ArrayList<>();
            for (Policy.TargetSpec t : s.targets()) {
                targets.add(t instanceof Policy.TargetSpec.DocBits d
                        ? targetFactory.checked(docbits.target(d, s.generator().field(), store), t)
                        : targetFactory.of(t, s.fields()));
            }
            out.put(s.id(), new SecretBinding(s, generators.generator(s), issuerName.map(issuers::get), verifiers, targets));
        }
        return out;
    }

    public AgentConfig config() {
        return config;
    }

    public Policy policy() {
        return policy;
    }

    public VaultClient vault() {
        return vault;
    }

    public Rotator rotator() {
        return rotator;
    }

    public Map<String, SecretBinding> bindings() {
        return bindings;
    }

    /** The binding of a secret, or an error naming the ids that exist. */
    public SecretBinding binding(String id) {
        SecretBinding b = bindings.get(id);
        if (b == null) {
            throw new IllegalArgumentException("no secret '" + id + "' in " + policy.source() + "; known: "
                    + String.join(", ", bindings.keySet()));
        }
        return b;
    }

    @Override
    public void close() {
        vault.close();
        audit.close();
    }
}
