package io.keyward.cli;

import io.keyward.audit.AuditChain;
import io.keyward.daemon.AgentConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "audit", description = "Work with the audit trail.", subcommands = AuditCommand.Verify.class)
final class AuditCommand implements Runnable {

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "verify",
            description = {"Check the audit files' hash chain: every line carries the SHA-256 of the line before it and a "
                    + "sequence number. Reports the first line that was changed, removed or reordered.",
                "Give the files oldest first (rolled files FILE.DATE.N, then the active file); without FILE, the audit "
                    + "file of the configuration and its rolled files are checked."},
            footer = {"", "Exit codes: 0 the chain is intact, 5 it is broken (the line is named), 2 no such file."})
    static final class Verify implements Callable<Integer> {

        private final Cli.Context context;

        @Parameters(paramLabel = "FILE", arity = "0..*", description = "Audit files, oldest first.")
        List<Path> files = new ArrayList<>();

        @Option(names = {"-c", "--config"}, paramLabel = "FILE",
                description = "Agent configuration naming the audit file (used when no FILE is given).")
        Path config;

        Verify(Cli.Context context) {
            this.context = context;
        }

        @Override
        public Integer call() throws Exception {
            List<Path> check = files;
            if (check.isEmpty()) {
                AgentConfig agent = CheckCommand.Configs.load(config, context.env());
                check = AuditChain.withRolled(agent.audit().file());
                if (check.isEmpty()) {
                    context.err().println("keyward: no audit file at " + agent.audit().file());
                    return ExitCode.USAGE.code;
                }
            }
            for (Path f : check) {
                if (!Files.isRegularFile(f)) {
                    context.err().println("keyward: no such audit file: " + f);
                    return ExitCode.USAGE.code;
                }
            }
            AuditChain.Report report = AuditChain.verify(check);
            if (report.intact()) {
                context.out().printf("ok: %d lines in %d file%s, hash chain intact%n", report.lines(), check.size(),
                        check.size() == 1 ? "" : "s");
                return ExitCode.OK.code;
            }
            context.out().println("BROKEN after " + report.lines() + " good lines: " + report.problem().get());
            return ExitCode.AUDIT_BROKEN.code;
        }
    }
}
