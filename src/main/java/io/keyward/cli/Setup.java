package io.keyward.cli;

import io.keyward.daemon.Agent;
import io.keyward.daemon.AgentConfig;
import io.keyward.policy.ConfigException;
import io.keyward.policy.Policy;
import io.keyward.rotation.Phase;
import io.keyward.rotation.Plugins;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Locale;
import picocli.CommandLine.Option;

/** The --config option and the steps every Vault-using command shares. */
final class Setup {

    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "Agent configuration (default: $KEYWARD_CONFIG, else /etc/keyward/keyward.yaml).")
    Path config;

    @Option(names = "--policy", paramLabel = "FILE",
            description = "Rotation policy (default: the configuration's 'policy', else policy.yaml beside it).")
    Path policy;

    AgentConfig agentConfig(Cli.Context context) throws ConfigException {
        return CheckCommand.Configs.load(config, context.env());
    }

    /** The policy file: --policy, else the configuration's. */
    Path policyFile(AgentConfig agent) {
        return policy != null ? policy : agent.policy();
    }

    Policy policy(AgentConfig agent) throws ConfigException {
        return Policy.load(policyFile(agent));
    }

    Agent agent(Cli.Context context) throws IOException, ConfigException {
        AgentConfig agent = agentConfig(context);
        Policy p = policy(agent);
        return Agent.start(agent, p, Clock.systemUTC(), pauseHook(context), context.env());
    }

    /**
     * Registers the agent as a member of the fleet before a command that delivers: a rotation
     * another agent drives then waits for this one's targets too. A failure is a warning only.
     */
    static void register(Agent agent, Cli.Context context) {
        try {
            agent.register();
        } catch (io.keyward.rotation.StoreException e) {
            context.err().println("keyward: warning: could not register agent " + agent.config().agentId()
                    + " as a member of the fleet: " + e.getMessage());
        }
    }

    /**
     * Test-only hook for the crash tests: with -Dkeyward.test.pause-at=PHASE the process stops
     * after journaling that phase (and says so on standard error) until it is killed.
     */
    static Plugins.PhaseListener pauseHook(Cli.Context context) {
        String at = System.getProperty("keyward.test.pause-at");
        if (at == null || at.isBlank()) return Plugins.PhaseListener.none();
        Phase phase = Phase.valueOf(at.toUpperCase(Locale.ROOT));
        return (secret, rotation, p) -> {
            if (p == phase) {
                context.err().println("PAUSED " + secret + " " + p.word());
                context.err().flush();
                try {
                    Thread.sleep(Long.MAX_VALUE);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
    }
}
