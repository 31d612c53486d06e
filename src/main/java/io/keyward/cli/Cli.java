package io.keyward.cli;

import io.keyward.policy.ConfigException;
import io.keyward.rotation.StoreException;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import picocli.CommandLine;

/**
 * Builds the command tree and is the one place where exceptions become exit codes. Tests drive
 * it with their own streams and environment.
 */
public final class Cli {

    private Cli() {}

    public static int run(String[] args, PrintStream out, PrintStream err, Map<String, String> env) {
        return run(args, System.in, out, err, env);
    }

    public static int run(String[] args, java.io.InputStream in, PrintStream out, PrintStream err, Map<String, String> env) {
        if (System.getProperty("keyward.log.level") == null) {
            java.util.List<String> all = java.util.Arrays.asList(args);
            // Words after "--" belong to the program keyward exec runs, not to keyward.
            java.util.List<String> words = all.contains("--") ? all.subList(0, all.indexOf("--")) : all;
            boolean verbose = words.contains("--verbose") || words.contains("-v");
            // The service logs what it does; one-shot commands only warnings (their output says the rest).
            boolean service = words.contains("run") || words.contains("exec");
            System.setProperty("keyward.log.level", verbose ? "DEBUG" : service ? "INFO" : "WARN");
        }
        Context context = new Context(out, err, env, in);
        CommandLine cli = commandLine(context);
        cli.setOut(new PrintWriter(out, true, StandardCharsets.UTF_8));
        cli.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> handle(e, err));
        cli.setExitCodeExceptionMapper(e -> ExitCode.USAGE.code);
        cli.getCommandSpec().exitCodeOnInvalidInput(ExitCode.USAGE.code);
        return cli.execute(args);
    }

    /** The command tree: what runs, and what the man page and the shell completion are made from. */
    static CommandLine commandLine(Context context) {
        return new CommandLine(new KeywardCommand(), new Factory(context));
    }

    static int handle(Exception e, PrintStream err) {
        if (e instanceof ConfigException c) {
            err.println("keyward: configuration problem: " + c.getMessage());
            return ExitCode.USAGE.code;
        }
        if (e instanceof io.keyward.vault.VaultAccessException v) {
            err.println("keyward: " + v.getMessage());
            return ExitCode.VAULT.code;
        }
        if (e instanceof StoreException s) {
            err.println("keyward: " + s.getMessage());
            return ExitCode.VAULT.code;
        }
        if (e instanceof java.nio.file.AccessDeniedException denied) {
            err.println("keyward: permission denied: " + denied.getFile()
                    + " (run as the keyward user, or fix the path in the configuration)");
            return ExitCode.USAGE.code;
        }
        if (e instanceof java.nio.file.FileSystemException fs) {
            err.println("keyward: " + fs.getFile() + ": " + (fs.getReason() == null ? fs.getClass().getSimpleName() : fs.getReason()));
            return ExitCode.USAGE.code;
        }
        if (e instanceof IOException io) {
            err.println("keyward: " + io.getMessage());
            return ExitCode.INTERNAL.code;
        }
        if (e instanceof IllegalArgumentException bad) {
            err.println("keyward: " + bad.getMessage());
            return ExitCode.USAGE.code;
        }
        err.println("keyward: unexpected failure: " + e);
        return ExitCode.INTERNAL.code;
    }

    static String version() {
        return io.keyward.daemon.Agent.version();
    }

    /** What every command gets: its streams and the environment (never read from a static). */
    record Context(PrintStream out, PrintStream err, Map<String, String> env, java.io.InputStream in) {}

    /** Gives commands their {@link Context} through their constructor. */
    private static final class Factory implements CommandLine.IFactory {
        private final Context context;
        private final CommandLine.IFactory fallback = CommandLine.defaultFactory();

        Factory(Context context) {
            this.context = context;
        }

        @Override
        public <K> K create(Class<K> type) throws Exception {
            try {
                return type.getDeclaredConstructor(Context.class).newInstance(context);
            } catch (NoSuchMethodException e) {
                return fallback.create(type);
            }
        }
    }

    /** Supplies --version. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"keyward " + version()};
        }
    }
}
