package sealedsearch.client;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.interfaces.ECPublicKey;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * JWE compact serialization (RFC 7516 §7.1) with "alg" ECDH-ES, direct key agreement on P-256
 * (RFC 7518 §4.6), and "enc" A256GCM or A128GCM (RFC 7518 §5.3).
 */
public final class Jwe {
  private static final SecureRandom RANDOM = new SecureRandom();

  private Jwe() {}

  /**
   * The protected header: alg, enc, kid, and the ephemeral public key (RFC 7518 §4.6.1.1), in
   * full-size coordinates. With certThumbprint (32 bytes, Binding) also x5t#S256 (RFC 8705
   * §3.1), which the AAD covers: the gateway then opens the token only over that certificate.
   */
  static Map<String, Object> protectedHeader(
      GatewayKey key, String enc, ECPublicKey epk, byte[] certThumbprint) {
    Map<String, Object> epkJwk = new LinkedHashMap<>();
    epkJwk.put("kty", "EC");
    epkJwk.put("crv", "P-256");
    byte[] point = P256.uncompressed(epk);
    epkJwk.put("x", Base64Url.encode(Base64Url.slice(point, 1, 33)));
    epkJwk.put("y", Base64Url.encode(Base64Url.slice(point, 33, 65)));
    Map<String, Object> header = new LinkedHashMap<>();
    header.put("alg", "ECDH-ES");
    header.put("enc", enc);
    header.put("kid", key.kid);
    if (certThumbprint != null) {
      if (certThumbprint.length != 32) {
        throw new IllegalArgumentException("the certificate thumbprint must be 32 bytes");
      }
      header.put("x5t#S256", Base64Url.encode(certThumbprint));
    }
    header.put("epk", epkJwk);
    return header;
  }

  /** Encrypts plaintext to a gateway P-256 key; enc is A256GCM or A128GCM. */
  public static String seal(GatewayKey key, byte[] plaintext, String enc)
      throws GeneralSecurityException {
    return seal(key, plaintext, enc, null);
  }

  /** As seal, bound to the client certificate whose SHA-256 is certThumbprint (or unbound). */
  public static String seal(GatewayKey key, byte[] plaintext, String enc, byte[] certThumbprint)
      throws GeneralSecurityException {
    int keyBits;
    if ("A256GCM".equals(enc)) keyBits = 256;
    else if ("A128GCM".equals(enc)) keyBits = 128;
    else throw new IllegalArgumentException("enc must be A256GCM or A128GCM");
    if (!"EC".equals(key.kty) || !"P-256".equals(key.crv) || key.kid == null) {
      throw new IllegalArgumentException("the gateway key is not an EC P-256 key with a kid");
    }
    ECPublicKey recipient =
        P256.publicKey(Base64Url.decode(key.x, 32, "x"), Base64Url.decode(key.y, 32, "y"));
    KeyPair ephemeral = P256.ephemeral();
    byte[] z = P256.dh(ephemeral.getPrivate(), recipient);
    // Direct key agreement: AlgorithmID is the enc value; no apu, no apv (RFC 7518 §4.6.2).
    byte[] cek = ConcatKdf.derive(z, enc, new byte[0], new byte[0], keyBits);
    java.util.Arrays.fill(z, (byte) 0);

    String header = Base64Url.encode(
        Json.write(
            protectedHeader(key, enc, (ECPublicKey) ephemeral.getPublic(), certThumbprint))
            .getBytes(StandardCharsets.UTF_8));
    byte[] iv = new byte[12];
    RANDOM.nextBytes(iv);
    Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
    gcm.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(cek, "AES"), new GCMParameterSpec(128, iv));
    // RFC 7516 §5.1 step 14: the AAD is ASCII(BASE64URL(UTF8(JWE Protected Header))).
    gcm.updateAAD(header.getBytes(StandardCharsets.US_ASCII));
    byte[] sealed = gcm.doFinal(plaintext);
    java.util.Arrays.fill(cek, (byte) 0);
    byte[] ciphertext = Base64Url.slice(sealed, 0, sealed.length - 16);
    byte[] tag = Base64Url.slice(sealed, sealed.length - 16, sealed.length);
    // Direct key agreement: the JWE Encrypted Key is empty.
    return header + ".." + Base64Url.encode(iv) + "." + Base64Url.encode(ciphertext) + "."
        + Base64Url.encode(tag);
  }
}
