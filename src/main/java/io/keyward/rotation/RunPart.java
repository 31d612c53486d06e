package io.keyward.rotation;

/** A piece of one {@link Run}'s work (promotion, delivery, retirement, rollback), with what the run holds. */
abstract class RunPart {

    final Run run;
    final Core core;
    final SecretBinding b;

    RunPart(Run run) {
        this.run = run;
        this.core = run.core;
        this.b = run.b;
    }
}
