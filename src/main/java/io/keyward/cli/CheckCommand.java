package io.keyward.cli;

import io.keyward.audit.AuditKey;
import io.keyward.audit.JsonAuditLog;
import io.keyward.daemon.AgentConfig;
import io.keyward.rotation.Fingerprinter;
import io.keyward.vault.VaultClient;
import java.net.InetAddress;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "check",
        description = "Check the agent configuration and Vault access: load the configuration, log in, and confirm "
                + "that keyward's state mount is KV version 2 and readable. Writes audit lines; changes nothing in Vault.")
final class CheckCommand implements Callable<Integer> {

    private final Cli.Context context;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "Agent configuration (default: $KEYWARD_CONFIG, else /etc/keyward/keyward.yaml).")
    Path config;

    CheckCommand(Cli.Context context) {
        this.context = context;
    }

    @Override
    public Integer call() throws Exception {
        Path file = Configs.resolve(config, context.env());
        AgentConfig agent = AgentConfig.load(file, context.env(), Configs.hostName(context.env()));
        context.out().printf("config  %s: ok (agent %s)%n", file, agent.agentId());

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
            context.out().printf("audit   %s%n", agent.audit().file());
        }
        return ExitCode.OK.code;
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
