package io.keyward.target;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Makes renames into a folder durable with as few folder fsyncs as possible: a writer that has
 * renamed its file calls {@link #durable(Path)}, which returns once an fsync of the folder that
 * began after that rename has finished. Writers that rename while one fsync runs share the next
 * one (group commit), so a batch of deliveries into one folder costs about one fsync of it, and
 * still no delivery is recorded before its rename would survive a power cut.
 */
final class FolderSync {

    static final FolderSync SHARED = new FolderSync(FolderSync::fsync);

    /** Makes a folder's entries durable (an fsync of the folder). */
    @FunctionalInterface
    interface Fsync {
        void run(Path folder) throws IOException;
    }

    private final Map<Path, Folder> folders = new ConcurrentHashMap<>();
    private final Fsync fsync;

    FolderSync(Fsync fsync) {
        this.fsync = fsync;
    }

    /** Returns once the folder's entries as they are now are on disk (a folder that cannot be synced is left as it is). */
    void durable(Path folder) throws IOException {
        folders.computeIfAbsent(folder, p -> new Folder(p, fsync)).durable();
    }

    /** One folder: renames are numbered; {@code synced} is the last number an fsync covered. */
    private static final class Folder {
        private final Path path;
        private final Fsync fsync;
        private long renamed;
        private long synced;
        private boolean syncing;

        Folder(Path path, Fsync fsync) {
            this.path = path;
            this.fsync = fsync;
        }

        void durable() throws IOException {
            long mine;
            synchronized (this) {
                mine = ++renamed;
            }
            while (true) {
                long upTo;
                synchronized (this) {
                    while (syncing && synced < mine) {
                        try {
                            wait();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            throw new IOException("interrupted while syncing " + path, e);
                        }
                    }
                    if (synced >= mine) return;
                    syncing = true;
                    upTo = renamed;
                }
                boolean done = false;
                try {
                    fsync.run(path);
                    done = true;
                } finally {
                    synchronized (this) {
                        syncing = false;
                        if (done) synced = Math.max(synced, upTo);
                        notifyAll();
                    }
                }
            }
        }
    }

    private static void fsync(Path folder) throws IOException {
        try (FileChannel d = FileChannel.open(folder, StandardOpenOption.READ)) {
            d.force(true);
        } catch (UnsupportedOperationException | java.nio.file.FileSystemException ignored) {
            // some file systems cannot sync a folder; the rename is still atomic
        }
    }
}
