package io.keyward.testing;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads a running keyward's /metrics until a line shows up (30 s at most). */
public final class Scrape {

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final Duration WAIT = Duration.ofSeconds(30);

    private Scrape() {}

    /** The whole page once it contains {@code line}; fails naming the line after 30 s. */
    public static String awaitLine(int port, String line) throws Exception {
        long until = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < until) {
            String body = metrics(port);
            if (body.contains(line)) return body;
            Thread.sleep(100);
        }
        throw new AssertionError("/metrics never showed " + line);
    }

    /** The number in the first group of {@code regex}, once the page matches it. */
    public static double awaitValue(int port, String regex) throws Exception {
        Pattern p = Pattern.compile(regex);
        long until = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < until) {
            Matcher m = p.matcher(metrics(port));
            if (m.find()) return Double.parseDouble(m.group(1));
            Thread.sleep(100);
        }
        throw new AssertionError("/metrics never showed " + regex);
    }

    public static String metrics(int port) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }
}
