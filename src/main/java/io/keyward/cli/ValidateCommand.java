package io.keyward.cli;

import io.keyward.policy.Policy;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "validate", description = "Check a rotation policy; every problem is listed with file:line:column. "
        + "Reads no secret and needs no Vault.")
final class ValidateCommand implements Callable<Integer> {

    private final Cli.Context context;

    @Mixin
    Setup setup;

    ValidateCommand(Cli.Context context) {
        this.context = context;
    }

    @Override
    public Integer call() throws Exception {
        Path file = setup.policy != null ? setup.policy : setup.agentConfig(context).policy();
        Policy p = Policy.load(file);
        context.out().printf("%s: ok, %d secret%s, %d issuer%s%n", file, p.secrets().size(),
                p.secrets().size() == 1 ? "" : "s", p.issuers().size(), p.issuers().size() == 1 ? "" : "s");
        return ExitCode.OK.code;
    }
}
