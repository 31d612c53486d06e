package io.keyward.cli;

import io.keyward.daemon.Agent;
import io.keyward.rotation.Outcome;
import io.keyward.rotation.SecretBinding;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "resume", description = "Finish or roll back every rotation left in flight (after a crash, or one "
        + "waiting for its grace period or a target). Rotations owned by a live agent are left to it.")
final class ResumeCommand implements Callable<Integer> {

    private final Cli.Context context;

    @Mixin
    Setup setup;

    ResumeCommand(Cli.Context context) {
        this.context = context;
    }

    @Override
    public Integer call() throws Exception {
        boolean failed = false;
        int touched = 0;
        try (Agent agent = setup.agent(context)) {
            Setup.register(agent, context);
            for (SecretBinding b : agent.bindings().values()) {
                Outcome o = agent.rotator().resume(b);
                if (o instanceof Outcome.NothingInFlight) continue;
                touched++;
                context.out().println(o.describe());
                failed |= o.failed();
            }
        }
        if (touched == 0) context.out().println("no rotation in flight");
        return failed ? ExitCode.ROTATION_FAILED.code : ExitCode.OK.code;
    }
}
