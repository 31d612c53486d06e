package io.keyward.rotation;

import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * Callbacks the core makes to code it does not own, made harmless: an exception thrown by a phase
 * listener or a notifier is logged and never breaks a rotation, and notifications are handed to
 * an executor so that a slow webhook never blocks the rotation thread.
 */
final class Guarded {

    private static final System.Logger LOG = System.getLogger("io.keyward.rotation");

    private Guarded() {}

    static Plugins.PhaseListener listener(Plugins.PhaseListener inner) {
        return (secretId, rotationId, phase) -> {
            try {
                inner.entered(secretId, rotationId, phase);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "a phase listener failed for " + secretId + " at " + phase.word()
                        + "; the rotation goes on: " + e);
            }
        };
    }

    static Plugins.Notifier notifier(Plugins.Notifier inner, Executor executor) {
        return notice -> {
            Runnable send = () -> {
                try {
                    inner.announce(notice);
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "the " + notice.word() + " notice for " + notice.secretId()
                            + " could not be sent: " + e);
                }
            };
            try {
                executor.execute(send);
            } catch (RejectedExecutionException full) {
                LOG.log(System.Logger.Level.WARNING, "the " + notice.word() + " notice for " + notice.secretId()
                        + " was dropped: the notification queue is full");
            }
        };
    }
}
