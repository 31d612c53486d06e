package io.keyward.rotation;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyward.policy.Policy;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Code the core calls but does not own cannot break or stall a rotation. */
final class GuardedTest {

    private static final Plugins.Notice NOTICE = new Plugins.Notice(Policy.NoticeKind.FAILED, "s", "r", 1, "rolled back");

    @Test
    void listener_thatThrows_isLoggedAndTheCallerGoesOn() {
        Plugins.PhaseListener guarded = Guarded.listener((s, r, p) -> {
            throw new IllegalStateException("metrics are broken");
        });
        guarded.entered("s", "r", Phase.STAGED); // no exception
    }

    @Test
    void notifier_thatThrows_isLoggedAndTheCallerGoesOn() {
        List<String> after = new ArrayList<>();
        Plugins.Notifier guarded = Guarded.notifier(n -> {
            throw new IllegalStateException("webhook is broken");
        }, Runnable::run);
        guarded.announce(NOTICE);
        after.add("went on");
        assertThat(after).containsExactly("went on");
    }

    @Test
    void notifier_thatBlocks_neverBlocksTheRotationThread() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch sent = new CountDownLatch(1);
        ExecutorService sender = Executors.newSingleThreadExecutor();
        try {
            Plugins.Notifier guarded = Guarded.notifier(n -> {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                sent.countDown();
            }, sender);
            long t0 = System.nanoTime();
            guarded.announce(NOTICE);
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).as("returns at once").isLessThan(1000);
            assertThat(sent.getCount()).isEqualTo(1);
            release.countDown();
            assertThat(sent.await(5, TimeUnit.SECONDS)).isTrue();
        } finally {
            sender.shutdownNow();
        }
    }

    @Test
    void notifier_whoseQueueIsFull_dropsTheNoticeAndTheCallerGoesOn() {
        Plugins.Notifier guarded = Guarded.notifier(n -> { }, task -> {
            throw new RejectedExecutionException("full");
        });
        guarded.announce(NOTICE); // no exception
    }
}
