package sealedsearch.client;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Instant;

/** Encrypts an MBI (or a HICN) to a gateway key: the one call most partners need. */
public final class Client {
  /** JWE compact (ECDH-ES, A256GCM) or the short HPKE token (docs/TOKENS.md). */
  public enum Format {
    JWE,
    HPKE
  }

  private Client() {}

  /**
   * A token for identifier, validated first (the exception never holds it), sealed to key.
   *
   * @param ttlSeconds 0 for the bare identifier, else {"mbi","iat","exp"} expiring after it
   */
  public static String encrypt(
      String identifier, GatewayKey key, Format format, Identifiers.Kind kind, long ttlSeconds)
      throws GeneralSecurityException {
    return encrypt(identifier, key, format, kind, ttlSeconds, null);
  }

  /**
   * As encrypt, bound to the partner's mTLS client certificate (PEM or DER bytes; null for an
   * unbound token): JWE x5t#S256, HPKE version 3 (docs/TOKENS.md). The gateway then opens the
   * token only over a connection that presents that certificate.
   */
  public static String encrypt(
      String identifier,
      GatewayKey key,
      Format format,
      Identifiers.Kind kind,
      long ttlSeconds,
      byte[] bindCertificate)
      throws GeneralSecurityException {
    String payload =
        Identifiers.payload(identifier, kind, ttlSeconds, Instant.now().getEpochSecond());
    byte[] plaintext = payload.getBytes(StandardCharsets.US_ASCII);
    byte[] cert = bindCertificate == null ? null : Binding.certificateThumbprint(bindCertificate);
    return format == Format.HPKE
        ? HpkeToken.seal(key, plaintext, cert)
        : Jwe.seal(key, plaintext, "A256GCM", cert);
  }

  /** GET {base}/v2/fhir/Patient?identifier={system}%7C{token}: only ciphertext in it. */
  public static String patientSearchUrl(String baseUrl, String token, Identifiers.Kind kind) {
    return baseUrl.replaceAll("/+$", "") + "/v2/fhir/Patient?identifier=" + kind.system + "%7C" + token;
  }
}
