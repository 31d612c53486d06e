package io.keyward.target;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The folder fsync after a rename: each writer returns only after an fsync of its folder that
 * began after its rename, and writers renaming meanwhile share one.
 */
final class FolderSyncTest {

    @Test
    void everyWriter_waitsForAnFsyncBegunAfterItsRename_andConcurrentWritersShareThem() throws Exception {
        AtomicInteger renamed = new AtomicInteger();
        AtomicInteger fsyncs = new AtomicInteger();
        List<Integer> coveredUpTo = java.util.Collections.synchronizedList(new ArrayList<>());
        FolderSync sync = new FolderSync(folder -> {
            int upTo = renamed.get(); // every rename counted so far is covered by this fsync
            fsyncs.incrementAndGet();
            java.util.concurrent.locks.LockSupport.parkNanos(5_000_000);
            coveredUpTo.add(upTo);
        });
        int writers = 16;
        int each = 50;
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                results.add(pool.submit(() -> {
                    for (int i = 0; i < each; i++) {
                        int mine = renamed.incrementAndGet(); // the rename
                        sync.durable(Path.of("/folder"));
                        synchronized (coveredUpTo) {
                            if (coveredUpTo.stream().noneMatch(upTo -> upTo >= mine)) return false;
                        }
                    }
                    return true;
                }));
            }
            for (Future<Boolean> r : results) assertThat(r.get()).as("returned before an fsync covered its rename").isTrue();
        } finally {
            pool.shutdown();
        }
        assertThat(fsyncs.get()).as("fsyncs for %d renames", writers * each).isLessThan(writers * each / 4);
    }
}
