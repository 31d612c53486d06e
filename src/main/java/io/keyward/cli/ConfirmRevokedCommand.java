package io.keyward.cli;

import io.keyward.daemon.Agent;
import io.keyward.rotation.Outcome;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(name = "confirm-revoked", description = "Say that the old key of a manual rotation was revoked in DocBits' "
        + "settings; closes the rotation. Refused while a target still holds the old key.")
final class ConfirmRevokedCommand implements Callable<Integer> {

    private final Cli.Context context;

    @Mixin
    Setup setup;

    @Parameters(paramLabel = "ID", description = "The secret whose old key was revoked.")
    String id;

    ConfirmRevokedCommand(Cli.Context context) {
        this.context = context;
    }

    @Override
    public Integer call() throws Exception {
        try (Agent agent = setup.agent(context)) {
            Outcome o = agent.rotator().confirmRevoked(agent.binding(id));
            context.out().println(o.describe());
            if (o instanceof Outcome.Skipped) return ExitCode.USAGE.code;
            return o.failed() ? ExitCode.ROTATION_FAILED.code : ExitCode.OK.code;
        }
    }
}
