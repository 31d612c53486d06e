package io.keyward.cli;

import io.keyward.daemon.Agent;
import io.keyward.rotation.Outcome;
import io.keyward.rotation.SecretBinding;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "sync", description = "Bring this agent's targets to the live version of each secret, whoever "
        + "wrote it (another host's rotation, an operator, never synced): a version someone else wrote is verified "
        + "first, like a rotation; a file target deleted or edited by hand is written again. A deleted or destroyed "
        + "version is never delivered.")
final class SyncCommand implements Callable<Integer> {

    private final Cli.Context context;

    @Mixin
    Setup setup;

    @Parameters(paramLabel = "ID", arity = "0..*", description = "Secrets to sync (default: all in the policy).")
    List<String> ids = new ArrayList<>();

    @Option(names = "--threads", paramLabel = "N", defaultValue = "16", description = "Secrets synced at once (default "
            + "${DEFAULT-VALUE}); Vault calls still share at most vault.max_connections connections, so the others write "
            + "their files meanwhile.")
    int threads;

    @Option(names = "--quiet", description = "Print only failures and the summary.")
    boolean quiet;

    @Option(names = "--force", description = "Write every target of this agent again, even those the local ledger shows "
            + "current.")
    boolean force;

    SyncCommand(Cli.Context context) {
        this.context = context;
    }

    @Override
    public Integer call() throws Exception {
        if (threads < 1 || threads > 256) {
            context.err().println("keyward: --threads must be 1 to 256");
            return ExitCode.USAGE.code;
        }
        try (Agent agent = setup.agent(context)) {
            List<SecretBinding> chosen = new ArrayList<>();
            if (ids.isEmpty()) chosen.addAll(agent.bindings().values());
            for (String id : ids) chosen.add(agent.binding(id));
            Setup.register(agent, context);
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            int delivered = 0;
            int failed = 0;
            try {
                List<Future<Outcome>> runs = new ArrayList<>();
                for (SecretBinding b : chosen) runs.add(pool.submit(() -> agent.rotator().sync(b, force)));
                for (Future<Outcome> f : runs) {
                    Outcome o = f.get();
                    boolean failing = o.failed() || o instanceof Outcome.Undelivered;
                    if (failing) failed++;
                    if (o instanceof Outcome.Completed || o instanceof Outcome.Delivered || o instanceof Outcome.Repaired
                            || o instanceof Outcome.Waiting) {
                        delivered++;
                    }
                    if (!quiet || failing) context.out().println(o.describe());
                }
            } finally {
                pool.shutdownNow();
            }
            context.out().println("synced " + chosen.size() + " secrets: " + delivered + " delivered, "
                    + (chosen.size() - delivered - failed) + " already current or skipped, " + failed + " failed");
            return failed > 0 ? ExitCode.ROTATION_FAILED.code : ExitCode.OK.code;
        }
    }
}
