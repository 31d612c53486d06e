package io.keyward.sim;

/** Replays one schedule from the command line: {@code java -cp ... io.keyward.sim.SimReplay SEED [EVENTS]}. */
public final class SimReplay {

    private SimReplay() {}

    public static void main(String[] args) {
        long seed = Long.parseLong(args[0]);
        int events = args.length > 1 ? Integer.parseInt(args[1]) : 100;
        System.out.println(Simulation.replay(seed, events));
    }
}
