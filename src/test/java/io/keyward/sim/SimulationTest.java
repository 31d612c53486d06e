package io.keyward.sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Runs many seeded schedules of the protocol (see {@link Simulation}) on every core, with zero
 * violations expected. {@code -Dsim.schedules=N} and {@code -Dsim.events=N} set the amount
 * (default 10,000 of 100), {@code -Dsim.base=S} the first seed (default: a new one each run, printed);
 * {@code -Dsim.seed=S} replays one schedule and prints every event.
 */
final class SimulationTest {

    @Test
    void schedules_holdEveryInvariant() throws Exception {
        int events = Integer.getInteger("sim.events", 100);
        String replay = System.getProperty("sim.seed");
        if (replay != null && !replay.isBlank()) {
            long seed = Long.parseLong(replay.strip());
            String trace = Simulation.replay(seed, events);
            System.out.println(trace);
            assertThat(Simulation.run(seed, events, false).violations()).as("seed " + seed).isEmpty();
            return;
        }
        int schedules = Integer.getInteger("sim.schedules", 10_000);
        long base = Long.getLong("sim.base", System.nanoTime() & 0xffffffffL);
        int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
        AtomicLong next = new AtomicLong();
        AtomicLong ran = new AtomicLong();
        List<Simulation.Result> failed = java.util.Collections.synchronizedList(new ArrayList<>());
        long t0 = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Future<?>> workers = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            workers.add(pool.submit(() -> {
                for (long n; (n = next.getAndIncrement()) < schedules && failed.size() < 5; ) {
                    Simulation.Result r = Simulation.run(base + n, events, false);
                    ran.incrementAndGet();
                    if (!r.violations().isEmpty()) failed.add(r);
                }
            }));
        }
        for (Future<?> f : workers) f.get();
        pool.shutdown();
        double seconds = (System.nanoTime() - t0) / 1e9;
        String summary = String.format("simulation: %d schedules of %d events (%d events) from seed %d in %.1f s on %d threads, "
                + "%d with violations", ran.get(), events, ran.get() * events, base, seconds, threads, failed.size());
        System.out.println(summary);
        java.nio.file.Path out = io.keyward.testing.TestDirs.fresh("simulation").resolve("summary.txt");
        StringBuilder text = new StringBuilder(summary).append('\n');
        for (Simulation.Result r : failed) {
            text.append("seed ").append(r.seed()).append(": ").append(r.violations().get(0)).append('\n')
                    .append("  replay: mvn -B test -Dtest=SimulationTest -Dsim.seed=").append(r.seed())
                    .append(" -Dsim.events=").append(events).append('\n');
        }
        java.nio.file.Files.writeString(out, text);
        assertThat(failed).as(text.toString()).isEmpty();
    }
}
