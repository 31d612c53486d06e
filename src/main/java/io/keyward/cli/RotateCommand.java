package io.keyward.cli;

import io.keyward.daemon.Agent;
import io.keyward.policy.Durations;
import io.keyward.policy.Policy;
import io.keyward.rotation.Outcome;
import io.keyward.rotation.Journal;
import io.keyward.rotation.KeySource;
import io.keyward.rotation.Rotator;
import io.keyward.rotation.SecretBinding;
import io.keyward.rotation.SecretMetadata;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "rotate", description = "Rotate one secret: if it is due, or at once with --now. Continues a rotation "
        + "of it left in flight. --emergency (a suspected leak) rotates now and retires the old value as soon as every "
        + "target has the new one, without waiting for the grace period.")
final class RotateCommand implements Callable<Integer> {

    private final Cli.Context context;

    @Mixin
    Setup setup;

    @Parameters(paramLabel = "ID", description = "The secret's id in the policy.")
    String id;

    @Option(names = "--now", description = "Rotate even if the secret is not due.")
    boolean now;

    @Option(names = "--emergency", description = "Rotate now and skip the grace period before retiring the old value.")
    boolean emergency;

    @Option(names = "--dry-run", description = "Say what would happen; change nothing.")
    boolean dryRun;

    RotateCommand(Cli.Context context) {
        this.context = context;
    }

    @Override
    public Integer call() throws Exception {
        try (Agent agent = setup.agent(context)) {
            SecretBinding b = agent.binding(id);
            if (dryRun) {
                dryRun(agent.rotator(), agent, b);
                return ExitCode.OK.code;
            }
            Setup.register(agent, context);
            Outcome o = agent.rotator().rotate(b, now || emergency, emergency, emergency ? "emergency" : "manual");
            context.out().println(o.describe());
            return o.failed() ? ExitCode.ROTATION_FAILED.code : ExitCode.OK.code;
        }
    }

    private void dryRun(Rotator rotator, Agent agent, SecretBinding b) throws Exception {
        Policy.SecretPolicy p = b.policy();
        Optional<Journal.Journaled> j = rotator.journal(b.id());
        if (j.isPresent() && j.get().entry().active()) {
            context.out().printf("%s: would continue rotation %s from %s (owner %s)%n", b.id(),
                    j.get().entry().rotationId(), j.get().entry().phase().word(), j.get().entry().owner());
            return;
        }
        Instant due = rotator.dueAt(b);
        boolean go = now || emergency || !Instant.now().isBefore(due);
        int live = agent.vault().metadata(b.livePath()).map(SecretMetadata::currentVersion).orElse(0);
        context.out().printf("%s: %s%n", b.id(), go ? "would rotate now" + (now || emergency ? " (forced)" : " (due since " + due + ")")
                : "would do nothing: not due until " + due);
        if (!go) return;
        String source = p.generator() instanceof Policy.GeneratorSpec.Issued i ? "issued by " + i.issuer()
                : p.generator() instanceof Policy.GeneratorSpec.Random r ? "random, " + r.length() + " characters"
                : "from a command";
        context.out().printf("  new value      %s (field %s), staged at %s%n", source, b.field(), rotator.pendingPath(b.id()));
        context.out().printf("  verify         %d step%s%n", b.verifiers().size(), b.verifiers().size() == 1 ? "" : "s");
        context.out().printf("  promote        %s with check-and-set on version %d%n", b.livePath(), live);
        context.out().printf("  deliver        %s%n", b.targets().isEmpty() ? "(no targets)"
                : String.join(", ", b.targets().stream().map(t -> t.id()).toList()));
        context.out().printf("  retire         version %d %s%s%n", live, emergency ? "as soon as every target has the new one"
                : "after a grace of " + Durations.format(b.grace()), b.source().revoker().isPresent() ? ", revoked at the issuer"
                : b.source() instanceof KeySource.Manual ? ", reported revocable" : "");
    }
}
