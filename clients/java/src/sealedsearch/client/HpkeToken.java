package sealedsearch.client;

import java.security.GeneralSecurityException;

/**
 * The HPKE token, version 2 (docs/TOKENS.md): base64url(hdr || enc || ct), hdr = 0x02 ||
 * key_id (2) || kem_id (2) || kdf_id (2) || aead_id (2); info = "sealed-search mbi v1" || 0x00 ||
 * hdr || thumbprint; the header is also the AEAD's associated data. Version 3 (0x03) is the same
 * layout bound to the sender's client certificate: info ends with its SHA-256.
 */
public final class HpkeToken {
  static final int VERSION = 0x02;
  static final int VERSION_BOUND = 0x03;
  static final String INFO_LABEL = "sealed-search mbi v1";

  private HpkeToken() {}

  static byte[] header(int keyId, boolean bound) {
    return Base64Url.concat(
        new byte[] {(byte) (bound ? VERSION_BOUND : VERSION)},
        Hpke.i2osp(keyId, 2),
        Hpke.i2osp(Hpke.KEM_P256_HKDF_SHA256, 2),
        Hpke.i2osp(Hpke.KDF_HKDF_SHA256, 2),
        Hpke.i2osp(Hpke.AEAD_AES_128_GCM, 2));
  }

  /**
   * label || 0x00 || hdr || thumbprint, and for version 3 the SHA-256 of the sender's client
   * certificate last (the gateway takes it from the connection).
   */
  static byte[] info(byte[] header, byte[] thumbprint, byte[] certThumbprint) {
    byte[] info = Base64Url.concat(Hpke.ascii(INFO_LABEL), new byte[] {0x00}, header, thumbprint);
    return certThumbprint == null ? info : Base64Url.concat(info, certThumbprint);
  }

  /** Seals plaintext to a gateway P-256 key that publishes an hpke_key_id. */
  public static String seal(GatewayKey key, byte[] plaintext) throws GeneralSecurityException {
    return seal(key, plaintext, null);
  }

  /** As seal; with certThumbprint (32 bytes, Binding) a version 3 token bound to it. */
  public static String seal(GatewayKey key, byte[] plaintext, byte[] certThumbprint)
      throws GeneralSecurityException {
    if (certThumbprint != null && certThumbprint.length != 32) {
      throw new IllegalArgumentException("the certificate thumbprint must be 32 bytes");
    }
    if (!"EC".equals(key.kty) || !"P-256".equals(key.crv)) {
      throw new IllegalArgumentException("this client seals HPKE tokens to P-256 keys only");
    }
    if (key.hpkeKeyId == 0) {
      throw new IllegalArgumentException("the gateway key has no hpke_key_id: use JWE with this key");
    }
    // The kid is the key's RFC 7638 SHA-256 thumbprint: 32 bytes, bound through info.
    byte[] thumbprint = Base64Url.decode(key.kid, 32, "kid");
    byte[] pkRm =
        Base64Url.concat(
            new byte[] {0x04}, Base64Url.decode(key.x, 32, "x"), Base64Url.decode(key.y, 32, "y"));
    byte[] header = header(key.hpkeKeyId, certThumbprint != null);
    byte[][] sealed =
        Hpke.sealBase(pkRm, info(header, thumbprint, certThumbprint), header, plaintext);
    return Base64Url.encode(Base64Url.concat(header, sealed[0], sealed[1]));
  }
}
