package io.keyward.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.stream.Stream;

/** Looks for secret values, raw and base64-encoded, in the files under some folders. */
public final class LeakScanner {

    /** One secret found in one file. */
    public record Hit(Path file, int line, String form) {
        @Override
        public String toString() {
            return file + ":" + line + " holds a tracked secret (" + form + ")";
        }
    }

    /** What a scan looked at and found. */
    public record Report(int files, long bytes, List<Hit> hits) {}

    private LeakScanner() {}

    public static Report scan(Collection<Path> roots, Collection<String> secrets, Collection<Path> exclude)
            throws IOException {
        List<String[]> needles = new ArrayList<>();
        for (String s : secrets) {
            byte[] raw = s.getBytes(StandardCharsets.UTF_8);
            needles.add(new String[] {s, "raw"});
            needles.add(new String[] {Base64.getEncoder().encodeToString(raw), "base64"});
            needles.add(new String[] {Base64.getEncoder().withoutPadding().encodeToString(raw), "base64"});
            needles.add(new String[] {Base64.getUrlEncoder().withoutPadding().encodeToString(raw), "base64url"});
        }
        List<Hit> hits = new ArrayList<>();
        int files = 0;
        long bytes = 0;
        for (Path root : roots) {
            if (!Files.isDirectory(root)) continue;
            List<Path> all;
            try (Stream<Path> walk = Files.walk(root)) {
                all = walk.filter(Files::isRegularFile)
                        .filter(p -> exclude.stream().noneMatch(x -> p.toAbsolutePath().startsWith(x.toAbsolutePath())))
                        .toList();
            }
            for (Path f : all) {
                String text = new String(Files.readAllBytes(f), StandardCharsets.UTF_8);
                files++;
                bytes += text.length();
                for (String[] n : needles) {
                    int at = text.indexOf(n[0]);
                    if (at >= 0) {
                        int line = 1;
                        for (int i = 0; i < at; i++) if (text.charAt(i) == '\n') line++;
                        hits.add(new Hit(f, line, n[1]));
                    }
                }
            }
        }
        return new Report(files, bytes, hits);
    }
}
