package io.keyward.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.EOFException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * How the HTTP client frames answers that arrive broken on the wire (what a proxy or a dying
 * connection can do, and no healthy Vault does): a body cut short is an answer lost, never a
 * shorter body. A loopback socket writes the bytes; it is not a Vault.
 */
final class VaultHttpFramingTest {

    @Test
    void aBodyShorterThanItsContentLength_isAnAnswerLost_notAShortBody() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread t = new Thread(() -> {
                try (Socket s = server.accept()) {
                    InputStream in = s.getInputStream();
                    int state = 0;
                    while (state < 4) { // the request head ends with \r\n\r\n
                        int b = in.read();
                        if (b < 0) return;
                        state = (b == (state % 2 == 0 ? '\r' : '\n')) ? state + 1 : (b == '\r' ? 1 : 0);
                    }
                    OutputStream out = s.getOutputStream();
                    out.write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n{\"data\":"
                            .getBytes(StandardCharsets.UTF_8));
                    out.flush();
                } catch (java.io.IOException e) {
                    // the test fails on the client side
                }
            });
            t.start();
            try (VaultHttp http = new VaultHttp(URI.create("http://127.0.0.1:" + server.getLocalPort()), null, true,
                    Duration.ofSeconds(2), Duration.ofSeconds(2), 1, Optional.empty())) {
                assertThatThrownBy(() -> http.send("GET", "secret/data/x", "token", null))
                        .isInstanceOf(EOFException.class)
                        .hasMessage("connection closed before Vault's answer ended");
                assertThat(http.peakConnections()).isEqualTo(1);
            }
            t.join(5000);
        }
    }
}
