package io.keyward.vault;

import io.github.jopenlibs.vault.SslConfig;
import io.github.jopenlibs.vault.VaultException;
import java.nio.file.Files;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/** Builds the TLS context for the shared HTTP client from PEM files, with the driver's PEM support. */
final class Tls {

    /** The context for our HTTP client (null: the JVM default) and the matching driver config. */
    record Material(SSLContext context, SslConfig driverConfig) {}

    private Tls() {}

    static Material build(TlsSettings tls) throws VaultAccessException {
        try {
            if (tls.skipVerify()) {
                SSLContext trustAll = SSLContext.getInstance("TLS");
                trustAll.init(null, new TrustManager[] {new TrustEverything()}, new SecureRandom());
                // java.net.http checks host names separately; this switch is read once per JVM.
                System.setProperty("jdk.internal.httpclient.disableHostnameVerification", "true");
                return new Material(trustAll, new SslConfig().verify(false).build());
            }
            SslConfig config = new SslConfig().verify(true);
            if (tls.caFile().isPresent()) {
                requireReadable(tls.caFile().get(), "vault.tls.ca_file");
                config.pemFile(tls.caFile().get().toFile());
            }
            if (tls.clientCertFile().isPresent()) {
                requireReadable(tls.clientCertFile().get(), "vault.tls.client_cert_file");
                requireReadable(tls.clientKeyFile().get(), "vault.tls.client_key_file");
                config.clientPemFile(tls.clientCertFile().get().toFile());
                config.clientKeyPemFile(tls.clientKeyFile().get().toFile());
            }
            config.build();
            return new Material(config.getSslContext(), config);
        } catch (VaultException e) {
            throw new VaultAccessException("TLS setup", "-", "-", 0,
                    "cannot use the configured certificates: " + Transport.firstLine(e.getMessage()), false, null);
        } catch (java.security.GeneralSecurityException e) {
            throw new VaultAccessException("TLS setup", "-", "-", 0,
                    "TLS is not available: " + e.getClass().getSimpleName(), false, null);
        }
    }

    private static void requireReadable(java.nio.file.Path file, String setting) throws VaultAccessException {
        if (!Files.isReadable(file)) {
            throw new VaultAccessException("TLS setup", "-", file.toString(), 0,
                    setting + " " + file + " cannot be read", false, null);
        }
    }

    private static final class TrustEverything implements X509TrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
            // skip_verify was spelled out in the configuration
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
            // skip_verify was spelled out in the configuration
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
