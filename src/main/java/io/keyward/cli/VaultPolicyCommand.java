package io.keyward.cli;

import io.keyward.daemon.AgentConfig;
import io.keyward.daemon.VaultAccess;
import io.keyward.policy.Policy;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "vault-policy", description = "Print the smallest Vault policy this agent needs for its configuration "
        + "and rotation policy: each path with only the capabilities keyward uses there, and a comment saying why. "
        + "Needs no Vault. Write it with: keyward vault-policy | bao policy write keyward -")
final class VaultPolicyCommand implements Callable<Integer> {

    private final Cli.Context context;

    @Mixin
    Setup setup;

    @Option(names = {"-o", "--output"}, defaultValue = "hcl",
            description = "hcl (default), or json: the same policy as JSON, which Vault's API takes too.")
    String output;

    VaultPolicyCommand(Cli.Context context) {
        this.context = context;
    }

    @Override
    public Integer call() throws Exception {
        if (!output.equals("hcl") && !output.equals("json")) {
            context.err().println("keyward: --output must be hcl or json, not '" + output + "'");
            return ExitCode.USAGE.code;
        }
        AgentConfig agent = setup.agentConfig(context);
        Path file = setup.policyFile(agent);
        Policy policy = Policy.load(file);
        List<VaultAccess.Grant> grants = VaultAccess.needed(agent, policy);
        if (output.equals("json")) {
            context.out().println(Output.JSON_MAPPER.writeValueAsString(VaultAccess.json(grants)));
        } else {
            context.out().print(VaultAccess.hcl(grants, "Vault policy for keyward agent " + agent.agentId() + ": "
                    + policy.secrets().size() + " secret" + (policy.secrets().size() == 1 ? "" : "s") + " from " + file
                    + ",\nstate at " + agent.state().mount() + "/" + agent.state().path() + ". Made by keyward vault-policy."));
        }
        return ExitCode.OK.code;
    }
}
