package io.keyward.cli;

import io.keyward.audit.AuditKey;
import io.keyward.audit.JsonAuditLog;
import io.keyward.daemon.AgentConfig;
import io.keyward.daemon.VaultAccess;
import io.keyward.policy.Policy;
import io.keyward.rotation.Fingerprinter;
import io.keyward.rotation.StoreException;
import io.keyward.vault.VaultClient;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "check",
        description = "Check the agent configuration and Vault access: load the configuration and policy, log in, "
                + "confirm that keyward's state mount is KV version 2 and readable, say which node answered (a single node, "
                + "the active node or a standby of a cluster) and whether it sends X-Vault-Index, and that the token may do "
                + "on each path what the policy needs (every capability it lacks is one line). Writes audit lines; changes nothing in Vault.")
final class CheckCommand implements Callable<Integer> {

    private final Cli.Context context;

    @Mixin
    Setup setup;

    CheckCommand(Cli.Context context) {
        this.context = context;
    }

    @Override
    public Integer call() throws Exception {
        Path file = Configs.resolve(setup.config, context.env());
        AgentConfig agent = AgentConfig.load(file, context.env(), Configs.hostName(context.env()));
        context.out().printf("config  %s: ok (agent %s)%n", file, agent.agentId());
        Path policyFile = setup.policyFile(agent);
        // Before the policy is written (the login comes first when installing), only the login is checked.
        Policy rules = null;
        if (setup.policy == null && !Files.exists(policyFile)) {
            context.out().printf("policy  %s: not written yet; the token's access to its paths is not checked%n", policyFile);
        } else {
            rules = Policy.load(policyFile);
            context.out().printf("policy  %s: ok, %d secret%s%n", policyFile, rules.secrets().size(),
                    rules.secrets().size() == 1 ? "" : "s");
        }

        byte[] key = AuditKey.loadOrCreate(agent.audit().hmacKeyFile(), new SecureRandom());
        Clock clock = Clock.systemUTC();
        try (JsonAuditLog audit = JsonAuditLog.open(agent.audit().file(), agent.agentId(), clock);
             VaultClient vault = VaultClient.connect(agent.vault(), audit, new Fingerprinter(key), clock)) {
            VaultClient.TokenInfo token = vault.token();
            context.out().printf("vault   %s: logged in by %s, token accessor %s, %s%n", agent.vault().address(),
                    agent.vault().auth().method(), token.accessor(),
                    token.ttl().isZero() ? "no expiry" : "ttl " + token.ttl().toSeconds() + "s"
                            + (token.renewable() ? " (renewable)" : " (not renewable)"));
            int kv = vault.kvVersion(agent.state().mount());
            if (kv != 2) {
                context.err().printf("keyward: state mount %s is KV version %d; keyward keeps its journal in KV version 2%n",
                        agent.state().mount(), kv);
                return ExitCode.USAGE.code;
            }
            int entries = vault.list(agent.state()).size();
            context.out().printf("state   %s: KV v2, %d entr%s%n", agent.state(), entries, entries == 1 ? "y" : "ies");
            context.out().printf("node    %s: %s%n", agent.vault().address(), vault.node().describe());
            context.out().printf("audit   %s%n", agent.audit().file());
            if (rules != null && !permitted(vault, VaultAccess.needed(agent, rules))) return ExitCode.VAULT.code;
        }
        return ExitCode.OK.code;
    }

    /** Asks Vault what the token may do on every path the policy needs; says each capability it lacks. */
    private boolean permitted(VaultClient vault, List<VaultAccess.Grant> grants) {
        Map<String, Set<String>> has;
        try {
            has = vault.capabilities(grants.stream().map(VaultAccess::probe).distinct().toList());
        } catch (StoreException e) {
            context.err().println("keyward: could not ask Vault what the token may do (" + e.getMessage() + "); "
                    + "the policy keyward vault-policy prints allows it (" + VaultAccess.CAPABILITIES + ")");
            return false;
        }
        List<VaultAccess.Missing> missing = VaultAccess.missing(grants, has);
        for (VaultAccess.Missing m : missing) context.err().println("keyward: " + m.describe());
        context.out().printf("access  %d path%s: %s%n", grants.size(), grants.size() == 1 ? "" : "s",
                missing.isEmpty() ? "the token may do all the policy needs"
                        : missing.size() + " capabilit" + (missing.size() == 1 ? "y" : "ies") + " missing");
        return missing.isEmpty();
    }

    /** Where commands find the configuration and the host name. */
    static final class Configs {
        private Configs() {}

        static Path resolve(Path given, java.util.Map<String, String> env) {
            if (given != null) return given;
            String fromEnv = env.get("KEYWARD_CONFIG");
            return Path.of(fromEnv != null && !fromEnv.isBlank() ? fromEnv : "/etc/keyward/keyward.yaml");
        }

        /** The agent configuration named by --config, $KEYWARD_CONFIG or the default path. */
        static AgentConfig load(Path given, java.util.Map<String, String> env) throws io.keyward.policy.ConfigException {
            return AgentConfig.load(resolve(given, env), env, hostName(env));
        }

        static String hostName(java.util.Map<String, String> env) {
            String h = env.get("HOSTNAME");
            if (h != null && !h.isBlank()) return h;
            try {
                return InetAddress.getLocalHost().getHostName();
            } catch (java.io.IOException e) {
                return "keyward";
            }
        }
    }
}
