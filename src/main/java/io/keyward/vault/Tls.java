package io.keyward.vault;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Collection;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * Builds the TLS context of keyward's Vault connections ({@link VaultHttp}) from PEM files: a CA
 * bundle to trust, and a client certificate chain with its PKCS#8 key (RSA, EC or Ed25519).
 */
final class Tls {

    /** The context for the Vault connections (null: the JVM's default trust). */
    record Material(SSLContext context) {}

    private Tls() {}

    static Material build(TlsSettings tls, String address) throws VaultAccessException {
        try {
            if (tls.skipVerify()) {
                SSLContext trustAll = SSLContext.getInstance("TLS");
                trustAll.init(keyManagers(tls, address), new TrustManager[] {new TrustEverything()}, new SecureRandom());
                // host names are not checked either (VaultHttp leaves endpoint identification off)
                return new Material(trustAll);
            }
            if (tls.caFile().isEmpty() && tls.clientCertFile().isEmpty()) {
                return new Material(null);
            }
            TrustManager[] trust = null;
            if (tls.caFile().isPresent()) {
                KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
                store.load(null, null);
                int i = 0;
                for (Certificate c : certificates(tls.caFile().get(), "vault.tls.ca_file", address)) {
                    store.setCertificateEntry("ca-" + i++, c);
                }
                TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init(store);
                trust = tmf.getTrustManagers();
            }
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keyManagers(tls, address), trust, new SecureRandom());
            return new Material(context);
        } catch (GeneralSecurityException | IOException e) {
            throw new VaultAccessException("TLS setup", address, "vault.tls", 0,
                    "cannot set up TLS: " + Transport.firstLine(e.getMessage()), false, null);
        }
    }

    private static KeyManager[] keyManagers(TlsSettings tls, String address) throws GeneralSecurityException, VaultAccessException {
        if (tls.clientCertFile().isEmpty()) return null;
        Collection<? extends Certificate> chain = certificates(tls.clientCertFile().get(), "vault.tls.client_cert_file", address);
        PrivateKey key = privateKey(tls.clientKeyFile().orElseThrow(), address);
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        try {
            store.load(null, null);
        } catch (IOException e) {
            throw new GeneralSecurityException(e);
        }
        char[] none = new char[0];
        store.setKeyEntry("client", key, none, chain.toArray(new Certificate[0]));
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(store, none);
        return kmf.getKeyManagers();
    }

    private static Collection<? extends Certificate> certificates(Path file, String setting, String address)
            throws VaultAccessException {
        try {
            byte[] pem = Files.readAllBytes(file);
            Collection<? extends Certificate> certs = CertificateFactory.getInstance("X.509")
                    .generateCertificates(new ByteArrayInputStream(pem));
            if (certs.isEmpty()) {
                throw problem(address, setting, file, "holds no PEM certificate");
            }
            return certs;
        } catch (IOException e) {
            throw problem(address, setting, file, "cannot be read (" + e.getClass().getSimpleName() + ")");
        } catch (GeneralSecurityException e) {
            throw problem(address, setting, file, "is not a PEM certificate file");
        }
    }

    private static PrivateKey privateKey(Path file, String address) throws VaultAccessException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw problem(address, "vault.tls.client_key_file", file, "cannot be read (" + e.getClass().getSimpleName() + ")");
        }
        if (!text.contains("-----BEGIN PRIVATE KEY-----")) {
            throw problem(address, "vault.tls.client_key_file", file,
                    "is not an unencrypted PKCS#8 PEM key (convert it: openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8)");
        }
        String body = text.substring(text.indexOf("-----BEGIN PRIVATE KEY-----") + 27, text.indexOf("-----END PRIVATE KEY-----"))
                .replaceAll("\\s", "");
        byte[] der;
        try {
            der = Base64.getDecoder().decode(body);
        } catch (IllegalArgumentException e) {
            throw problem(address, "vault.tls.client_key_file", file, "is not valid PEM");
        }
        for (String algorithm : new String[] {"RSA", "EC", "Ed25519"}) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                // try the next algorithm
            }
        }
        throw problem(address, "vault.tls.client_key_file", file, "holds a key that is not RSA, EC or Ed25519");
    }

    private static VaultAccessException problem(String address, String setting, Path file, String what) {
        return new VaultAccessException("TLS setup", address, setting, 0, setting + " " + file + " " + what,
                false, null);
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
