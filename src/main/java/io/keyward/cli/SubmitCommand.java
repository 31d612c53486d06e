package io.keyward.cli;

import io.keyward.daemon.Agent;
import io.keyward.rotation.KeySource;
import io.keyward.rotation.Outcome;
import io.keyward.rotation.SecretBinding;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "submit", description = {
        "Hand over a new key that a person created (DocBits in manual mode): it is read from standard input "
                + "(never from the command line), verified, stored in Vault and delivered; keyward then reports when "
                + "the old key may be revoked.",
        "Example: keyward submit docbits-us-key < new-key.txt   (or type it: input is not echoed)"})
final class SubmitCommand implements Callable<Integer> {

    private final Cli.Context context;

    @Mixin
    Setup setup;

    @Parameters(paramLabel = "ID", description = "The secret the key is for.")
    String id;

    @Option(names = "--emergency", description = "The old key is compromised: report it revocable as soon as every "
            + "target has the new one, without the grace period.")
    boolean emergency;

    SubmitCommand(Cli.Context context) {
        this.context = context;
    }

    @Override
    public Integer call() throws Exception {
        String key = readKey();
        if (key.isEmpty()) {
            context.err().println("keyward: no key on standard input; pipe it in, like: keyward submit " + id + " < key.txt");
            return ExitCode.USAGE.code;
        }
        try (Agent agent = setup.agent(context)) {
            SecretBinding b = agent.binding(id);
            if (!(b.source() instanceof KeySource.Manual)) {
                context.err().println("keyward: secret '" + id + "' is not issued by hand (its issuer is not in mode manual);"
                        + " rotate it with 'keyward rotate " + id + " --now'");
                return ExitCode.USAGE.code;
            }
            Setup.register(agent, context);
            Outcome o = agent.rotator().submit(b, key, emergency);
            context.out().println(o.describe());
            if (o instanceof Outcome.Skipped) return ExitCode.USAGE.code;
            return o.failed() ? ExitCode.ROTATION_FAILED.code : ExitCode.OK.code;
        }
    }

    /** One line from standard input, without echo when a person types it at a terminal. */
    private String readKey() throws java.io.IOException {
        java.io.Console console = System.console();
        if (context.in() == System.in && console != null) {
            char[] typed = console.readPassword("new key for %s (not shown): ", id);
            return typed == null ? "" : new String(typed).strip();
        }
        BufferedReader r = new BufferedReader(new InputStreamReader(context.in(), StandardCharsets.UTF_8));
        String line = r.readLine();
        return line == null ? "" : line.strip();
    }
}
