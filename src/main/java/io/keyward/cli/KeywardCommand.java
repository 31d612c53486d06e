package io.keyward.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "keyward",
        mixinStandardHelpOptions = true,
        scope = picocli.CommandLine.ScopeType.INHERIT, // --help and --version answer under every command
        versionProvider = Cli.Version.class,
        description = "Rotates secrets kept in HashiCorp Vault or OpenBao and delivers them to the systems that use "
                + "them, with an audit line for every access.",
        subcommands = {RunCommand.class, ExecCommand.class, CheckCommand.class, ValidateCommand.class, VaultPolicyCommand.class, PlanCommand.class, RotateCommand.class,
            StatusCommand.class, HistoryCommand.class, ResumeCommand.class, SyncCommand.class, SubmitCommand.class,
            ConfirmRevokedCommand.class, FleetCommand.class, AuditCommand.class, SimulatorCommand.class, picocli.CommandLine.HelpCommand.class},
        footer = {"",
            "Exit codes: 0 ok, 1 unexpected failure, 2 bad command line, configuration or policy, 3 Vault unreachable or denied,",
            "4 a rotation rolled back or stopped, 5 the audit hash chain is broken.",
            "Environment: VAULT_ADDR, VAULT_TOKEN, VAULT_NAMESPACE, VAULT_CACERT, VAULT_CLIENT_CERT, VAULT_CLIENT_KEY and",
            "VAULT_TLS_SERVER_NAME fill what the configuration leaves out;",
            "KEYWARD_CONFIG names the configuration file (default /etc/keyward/keyward.yaml)."})
final class KeywardCommand implements Runnable {

    @Option(names = {"-v", "--verbose"}, description = "Log what keyward does (to standard error).", scope = picocli.CommandLine.ScopeType.INHERIT)
    boolean verbose;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
