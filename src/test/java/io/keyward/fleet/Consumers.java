package io.keyward.fleet;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * The applications on the hosts: each reads its key files every 50 ms, as an application that
 * calls DocBits or the issuer's service would, and checks each key is accepted. A key that is no
 * longer accepted while the file still holds it is a violation. A host's consumer can be paused
 * (the host is stopped past the member timeout: its files may hold a retired key until it renders).
 */
final class Consumers implements AutoCloseable {

    /** The first time a host's application read a key that was no longer accepted. */
    record Violation(long at, String host, String secret, String key) {
        @Override
        public String toString() {
            return at + " " + host + " " + secret;
        }
    }

    /** One file a host's application reads, and how to tell that the key in it is accepted. */
    record File(String host, String secret, Path path, Predicate<String> accepted) {}

    private final List<File> files;
    private final Set<String> paused = ConcurrentHashMap.newKeySet();
    final List<String> violations = Collections.synchronizedList(new ArrayList<>());
    /** The first read of each key that was no longer accepted: kept to say which version it was, never printed. */
    final Map<String, Violation> violating = new ConcurrentHashMap<>();
    final AtomicLong reads = new AtomicLong();
    /** Every key each host's application read, per secret: "host/secret" -> keys. */
    final Map<String, Set<String>> seen = new ConcurrentHashMap<>();
    private final Thread thread;
    private volatile boolean running = true;

    Consumers(List<File> files) {
        this.files = List.copyOf(files);
        this.thread = new Thread(this::loop, "consumers");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    void pause(String host) {
        paused.add(host);
    }

    void resume(String host) {
        paused.remove(host);
    }

    private void loop() {
        while (running) {
            for (File f : files) {
                if (paused.contains(f.host())) continue;
                String key = read(f.path());
                if (key == null) continue;
                reads.incrementAndGet();
                seen.computeIfAbsent(f.host() + "/" + f.secret(), k -> ConcurrentHashMap.newKeySet()).add(key);
                if (!f.accepted().test(key) && key.equals(read(f.path())) && !paused.contains(f.host())) {
                    long now = System.currentTimeMillis();
                    violations.add(now + " " + f.host() + " read a key of " + f.secret() + " that is no longer accepted");
                    violating.putIfAbsent(f.host() + "/" + key, new Violation(now, f.host(), f.secret(), key));
                }
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private static String read(Path p) {
        try {
            String s = Files.readString(p).strip();
            return s.isEmpty() ? null : s;
        } catch (NoSuchFileException missing) {
            return null;
        } catch (java.io.IOException e) {
            return null;
        }
    }

    Set<String> seen(String host, String secret) {
        return seen.getOrDefault(host + "/" + secret, new HashSet<>());
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.join(5000);
    }
}
