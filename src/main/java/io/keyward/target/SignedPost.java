package io.keyward.target;

import io.keyward.policy.Policy;
import io.keyward.rotation.Plugins;
import io.keyward.rotation.SecretPath;
import io.keyward.rotation.SecretStore;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;

/**
 * A JSON POST signed with a key read from Vault (see {@link Signer}), shared by the webhook target
 * and the notifier. 2xx is success; 408, 429 and 5xx are worth retrying; other answers are a
 * definite no. The key and the body never appear in an error.
 */
final class SignedPost {

    private final HttpClient http;
    private final SecretStore store;
    private final Clock clock;

    SignedPost(HttpClient http, SecretStore store, Clock clock) {
        this.http = http;
        this.store = store;
        this.clock = clock;
    }

    void post(String what, URI url, Policy.VaultField signingKey, String body, String idempotencyKey, Duration timeout)
            throws IOException {
        byte[] key = key(what, signingKey);
        long ts = clock.instant().getEpochSecond();
        HttpRequest.Builder req = HttpRequest.newBuilder(url).timeout(timeout)
                .header("Content-Type", "application/json")
                .header("User-Agent", "keyward")
                .header(Signer.TIMESTAMP, String.valueOf(ts))
                .header(Signer.SIGNATURE, Signer.sign(key, ts, body))
                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        if (idempotencyKey != null) req.header("Idempotency-Key", idempotencyKey);
        HttpResponse<Void> answer;
        try {
            answer = http.send(req.build(), HttpResponse.BodyHandlers.discarding());
        } catch (HttpTimeoutException e) {
            throw new IOException(what + ": " + url + " did not answer within " + timeout.toMillis() + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(what + ": interrupted");
        } catch (IOException e) {
            throw new IOException(what + ": cannot reach " + url + ": " + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : " " + e.getMessage()));
        }
        int status = answer.statusCode();
        if (status / 100 == 2) return;
        String message = what + ": " + url + " answered HTTP " + status;
        if (status == 408 || status == 429 || status >= 500) throw new IOException(message);
        throw new Plugins.Rejected(message);
    }

    private byte[] key(String what, Policy.VaultField f) throws IOException {
        SecretPath path = SecretPath.of(f.mount(), f.path());
        String key = store.text(path, f.field()).orElseThrow(() -> new IOException(what + ": no signing key in field '" + f.field() + "' of " + path));
        return key.getBytes(StandardCharsets.UTF_8);
    }
}
