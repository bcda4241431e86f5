package sealedsearch.client;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Sender-bound tokens (docs/TOKENS.md, "Version 3"): a token bound to the partner's mTLS client
 * certificate opens only over a connection that presents that certificate, so a URL copied out
 * of a log is useless to anyone else. The binding is RFC 8705 §3.1's x5t#S256: SHA-256 of the
 * certificate's DER. Also the mTLS connection itself, from PEM files.
 */
public final class Binding {
  /** The PEM label of an unencrypted PKCS#8 key (RFC 7468 §10). */
  private static final String PKCS8_LABEL = "PRIVATE" + " KEY";

  private static final Pattern PRIVATE_KEY =
      Pattern.compile(
          "-----BEGIN " + PKCS8_LABEL + "-----([A-Za-z0-9+/=\\s]+)-----END " + PKCS8_LABEL + "-----");

  private Binding() {}

  /** The one X.509 certificate of a PEM or DER file's bytes, or an IllegalArgumentException. */
  static X509Certificate certificate(byte[] pemOrDer) {
    try {
      return (X509Certificate)
          CertificateFactory.getInstance("X.509")
              .generateCertificate(new ByteArrayInputStream(pemOrDer));
    } catch (GeneralSecurityException | RuntimeException e) {
      throw new IllegalArgumentException("the client certificate is not a PEM or DER X.509 certificate");
    }
  }

  /** SHA-256 (32 bytes) of a client certificate's DER, from its PEM or DER bytes. */
  public static byte[] certificateThumbprint(byte[] pemOrDer) throws GeneralSecurityException {
    return MessageDigest.getInstance("SHA-256").digest(certificate(pemOrDer).getEncoded());
  }

  /** An unencrypted PKCS#8 PEM private key (RFC 7468 §10 label): EC or RSA. */
  static PrivateKey privateKey(String pem) throws GeneralSecurityException {
    Matcher m = PRIVATE_KEY.matcher(pem);
    if (!m.find()) {
      throw new IllegalArgumentException("the client key is not an unencrypted PKCS#8 PEM key");
    }
    PKCS8EncodedKeySpec spec =
        new PKCS8EncodedKeySpec(Base64.getMimeDecoder().decode(m.group(1)));
    GeneralSecurityException last = null;
    for (String algorithm : new String[] {"EC", "RSA"}) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(spec);
      } catch (GeneralSecurityException e) {
        last = e;
      }
    }
    throw last;
  }

  /**
   * An SSLContext that presents certFile (PEM, the chain) with keyFile (PKCS#8 PEM) when given,
   * and trusts caFile (PEM) when given, else the JDK's default roots.
   */
  public static SSLContext sslContext(Path certFile, Path keyFile, Path caFile)
      throws IOException, GeneralSecurityException {
    CertificateFactory x509 = CertificateFactory.getInstance("X.509");
    KeyManagerFactory kmf = null;
    if (certFile != null) {
      List<Certificate> chain = new ArrayList<>(
          x509.generateCertificates(new ByteArrayInputStream(Files.readAllBytes(certFile))));
      if (chain.isEmpty()) throw new IllegalArgumentException("no certificate in " + certFile);
      String pem = Files.readString(keyFile == null ? certFile : keyFile, StandardCharsets.US_ASCII);
      KeyStore keys = KeyStore.getInstance("PKCS12");
      keys.load(null, null);
      char[] none = new char[0];
      keys.setKeyEntry("client", privateKey(pem), none, chain.toArray(new Certificate[0]));
      kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(keys, none);
    }
    TrustManagerFactory tmf = null;
    if (caFile != null) {
      Collection<? extends Certificate> cas =
          x509.generateCertificates(new ByteArrayInputStream(Files.readAllBytes(caFile)));
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      int i = 0;
      for (Certificate ca : cas) trust.setCertificateEntry("ca" + i++, ca);
      tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
    }
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(
        kmf == null ? null : kmf.getKeyManagers(), tmf == null ? null : tmf.getTrustManagers(), null);
    return context;
  }

  /** An HttpClient for the gateway over this SSLContext (Search.fetchJwks, Search.search). */
  public static HttpClient httpClient(SSLContext context) {
    return HttpClient.newBuilder()
        .connectTimeout(Duration.ofSeconds(10))
        .sslContext(context)
        .build();
  }
}
