package io.keyward.cli;

import io.keyward.daemon.AgentConfig;
import io.keyward.daemon.Daemon;
import io.keyward.policy.Durations;
import io.keyward.policy.Policy;
import io.keyward.target.Supervisor;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "exec",
        description = {"Run an application with secrets in its environment, and restart it when one of them gets a new "
                + "version: keyward serves the named secrets as a member of the fleet whose one target is the application.",
            "The values are given only in the environment, never on the command line. A restart sends --stop-signal, "
                + "waits up to --stop-timeout (then SIGKILL) and starts the application again; the new version is "
                + "acknowledged once the new process has stayed up for --min-uptime. If it exits sooner, the application "
                + "is started again with the values it had, a 'degraded' notice goes out and the old key is not retired.",
            "SIGTERM and SIGINT are passed to the application and keyward exits with its exit code when it has stopped; "
                + "SIGHUP, SIGUSR1 and SIGUSR2 are passed on. When the application exits, keyward does too, with its code.",
            "Give it a configuration of its own (agent.id, state.dir, audit.file) when a 'keyward run' serves the same host."},
        footer = {"", "Example:", "  keyward exec -c /etc/keyward/payments.yaml --env DB_PASSWORD=payments-db.password \\",
            "      --env DOCBITS_KEY=docbits-key -- /usr/bin/payments --port 8080"})
final class ExecCommand implements java.util.concurrent.Callable<Integer> {

    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final Set<String> SIGNALS = Set.of("TERM", "INT", "HUP", "QUIT", "USR1", "USR2", "KILL");
    /** What keyward's own environment holds that the application must not get. */
    private static final Set<String> KEPT_BACK = Set.of("VAULT_TOKEN", "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID");

    /** How long the first start of the application may wait for its values. */
    private static final Duration STARTING = Duration.ofSeconds(90);

    private final Cli.Context context;

    @Mixin
    Setup setup;

    @Option(names = "--env", paramLabel = "NAME=SECRET[.FIELD]", required = true,
            description = "An environment variable of the application and the secret (and field, when the secret has "
                    + "several) it holds. Repeat for each.")
    List<String> env = new ArrayList<>();

    @Option(names = "--stop-signal", paramLabel = "SIGNAL", defaultValue = "TERM",
            description = "Signal that stops the application for a restart: TERM, INT, HUP, QUIT, USR1, USR2 or KILL "
                    + "(default: ${DEFAULT-VALUE}).")
    String stopSignal;

    @Option(names = "--stop-timeout", paramLabel = "DURATION", defaultValue = "10s",
            description = "How long the application has to exit after the stop signal before SIGKILL (default: ${DEFAULT-VALUE}).")
    String stopTimeout;

    @Option(names = "--min-uptime", paramLabel = "DURATION", defaultValue = "5s",
            description = "How long a new process must stay up before its new values count as delivered (default: ${DEFAULT-VALUE}).")
    String minUptime;

    @Parameters(paramLabel = "COMMAND", arity = "1..*",
            description = "The application and its arguments, after '--'.")
    List<String> command = new ArrayList<>();

    ExecCommand(Cli.Context context) {
        this.context = context;
    }

    @Override
    public Integer call() throws Exception {
        AgentConfig config = setup.agentConfig(context);
        Path policyFile = setup.policyFile(config);
        List<Supervisor.Variable> variables = variables(Policy.load(policyFile), env);
        String signal = stopSignal.toUpperCase(java.util.Locale.ROOT).replaceFirst("^SIG", "");
        if (!SIGNALS.contains(signal)) {
            throw new IllegalArgumentException("--stop-signal " + stopSignal + " is not one of " + new java.util.TreeSet<>(SIGNALS));
        }
        Map<String, String> childEnv = new LinkedHashMap<>(context.env());
        KEPT_BACK.forEach(childEnv::remove);
        Supervisor.Settings settings = new Supervisor.Settings(command, childEnv, variables, signal,
                duration("--stop-timeout", stopTimeout), duration("--min-uptime", minUptime), Duration.ofMillis(250));

        CountDownLatch done = new CountDownLatch(1);
        AtomicInteger exit = new AtomicInteger(-1);
        AtomicReference<String> stopBy = new AtomicReference<>();
        Set<String> served = new LinkedHashSet<>();
        variables.forEach(v -> served.add(v.secretId()));
        try (Supervisor supervisor = new Supervisor(settings, code -> {
            exit.compareAndSet(-1, code);
            done.countDown();
        })) {
            for (String s : List.of("TERM", "INT")) {
                Daemon.signal(s, () -> {
                    stopBy.compareAndSet(null, s);
                    done.countDown();
                });
            }
            for (String s : List.of("HUP", "USR1", "USR2")) Daemon.signal(s, () -> supervisor.signal(s));
            Daemon.Shape shape = new Daemon.Shape(p -> restrict(p, served, command),
                    (secretId, target) -> supervisor.target(secretId), false);
            try (Daemon daemon = Daemon.start(config, policyFile, context.env(), Clock.systemUTC(), Setup.pauseHook(context),
                    shape)) {
                // After an early READY (this member's ledger shows the application served) the first look,
                // which starts it, runs in the background: give it the time a first delivery may take.
                long deadline = System.nanoTime() + STARTING.toNanos() + settings.minUptime().toNanos();
                while (supervisor.pid().isEmpty() && done.getCount() > 0 && System.nanoTime() < deadline) {
                    done.await(100, java.util.concurrent.TimeUnit.MILLISECONDS);
                }
                if (supervisor.pid().isEmpty() && done.getCount() > 0) {
                    context.err().println("keyward: " + command.get(0) + " is not running: its secrets could not be "
                            + "delivered (see the log above); stopping");
                    return ExitCode.INTERNAL.code;
                }
                done.await();
                if (stopBy.get() != null) {
                    int code = supervisor.stop(stopBy.get());
                    exit.compareAndSet(-1, code < 0 ? 0 : code);
                }
            }
        }
        return exit.get();
    }

    /** The variables of {@code --env NAME=SECRET[.FIELD]}, checked against the policy. */
    static List<Supervisor.Variable> variables(Policy policy, List<String> specs) {
        List<Supervisor.Variable> out = new ArrayList<>();
        Set<String> names = new LinkedHashSet<>();
        for (String spec : specs) {
            int eq = spec.indexOf('=');
            if (eq <= 0 || eq == spec.length() - 1) {
                throw new IllegalArgumentException("--env " + spec + ": write NAME=SECRET or NAME=SECRET.FIELD");
            }
            String name = spec.substring(0, eq);
            String ref = spec.substring(eq + 1);
            if (!NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("--env " + spec + ": '" + name + "' is not an environment variable name");
            }
            if (!names.add(name)) throw new IllegalArgumentException("--env " + name + " is given twice");
            Optional<Policy.SecretPolicy> whole = policy.secret(ref);
            Policy.SecretPolicy secret;
            String field;
            if (whole.isPresent()) {
                secret = whole.get();
                field = secret.generator().field();
            } else {
                int dot = ref.lastIndexOf('.');
                secret = dot <= 0 ? null : policy.secret(ref.substring(0, dot)).orElse(null);
                if (secret == null) {
                    throw new IllegalArgumentException("--env " + spec + ": no secret '" + (dot <= 0 ? ref : ref.substring(0, dot))
                            + "' in " + policy.source() + "; known: " + String.join(", ",
                            policy.secrets().stream().map(Policy.SecretPolicy::id).toList()));
                }
                field = ref.substring(dot + 1);
                if (!secret.fields().contains(field)) {
                    throw new IllegalArgumentException("--env " + spec + ": secret " + secret.id() + " has no field '" + field
                            + "'; its fields: " + String.join(", ", secret.fields()));
                }
            }
            out.add(new Supervisor.Variable(name, secret.id(), field));
        }
        return out;
    }

    /** The policy's secrets the application uses, each with the application as its one target. */
    static Policy restrict(Policy p, Set<String> secretIds, List<String> command) {
        List<Policy.SecretPolicy> kept = new ArrayList<>();
        for (String id : secretIds) {
            Policy.SecretPolicy s = p.secret(id).orElseThrow(() -> new IllegalArgumentException(
                    "the policy no longer has secret '" + id + "', which keyward exec gives to " + command.get(0)));
            kept.add(s.withTargets(List.of(new Policy.TargetSpec.Exec("process", command, false, Duration.ofMinutes(1),
                    Optional.empty(), Optional.empty(), false))));
        }
        return p.withSecrets(kept).withFiles(List.of()); // the policy's files are left to keyward run, as its targets are
    }

    private static Duration duration(String option, String text) {
        try {
            return Durations.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(option + " " + text + ": " + e.getMessage());
        }
    }

}
