package io.keyward.cli;

import io.keyward.daemon.AgentConfig;
import io.keyward.daemon.Daemon;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "run",
        description = {"Run keyward as a service: load the configuration and policy, log in to Vault, finish or roll back "
                + "every rotation left in flight, then rotate and watch each secret on its schedule until stopped.",
            "Under systemd (Type=notify) it reports READY, STATUS and watchdog pings. SIGHUP reloads the policy (an "
                + "invalid one is refused and the last good one stays); SIGTERM or SIGINT finish the step in progress "
                + "and exit. Serves /metrics, /healthz and /readyz on metrics.listen (default 127.0.0.1:9464)."})
final class RunCommand implements Callable<Integer> {

    private final Cli.Context context;

    @Mixin
    Setup setup;

    RunCommand(Cli.Context context) {
        this.context = context;
    }

    @Override
    public Integer call() throws Exception {
        AgentConfig config = setup.agentConfig(context);
        Path policy = setup.policyFile(config);
        try (Daemon daemon = Daemon.start(config, policy, context.env(), Clock.systemUTC(), Setup.pauseHook(context))) {
            daemon.awaitStop();
        }
        return ExitCode.OK.code;
    }
}
