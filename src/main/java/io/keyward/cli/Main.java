package io.keyward.cli;

/** Process entry: maps {@link Cli#run} to the exit code and nothing else. */
public final class Main {

    private Main() {}

    public static void main(String[] args) {
        System.exit(Cli.run(args, System.out, System.err, System.getenv()));
    }
}
