package sealedsearch.client;

import java.security.GeneralSecurityException;

/**
 * The HPKE token, version 2 (docs/TOKENS.md): base64url(hdr || enc || ct), hdr = 0x02 ||
 * key_id (2) || kem_id (2) || kdf_id (2) || aead_id (2); info = "sealed-search mbi v1" || 0x00 ||
 * hdr || thumbprint; the header is also the AEAD's associated data.
 */
public final class HpkeToken {
  static final int VERSION = 0x02;
  static final String INFO_LABEL = "sealed-search mbi v1";

  private HpkeToken() {}

  static byte[] header(int keyId) {
    return Base64Url.concat(
        new byte[] {VERSION},
        Hpke.i2osp(keyId, 2),
        Hpke.i2osp(Hpke.KEM_P256_HKDF_SHA256, 2),
        Hpke.i2osp(Hpke.KDF_HKDF_SHA256, 2),
        Hpke.i2osp(Hpke.AEAD_AES_128_GCM, 2));
  }

  /**
   * label || 0x00 || hdr || thumbprint. Whatever else a token is to be bound to (a sender's
   * certificate, say) joins here, where the gateway derives the same.
   */
  static byte[] info(byte[] header, byte[] thumbprint) {
    return Base64Url.concat(Hpke.ascii(INFO_LABEL), new byte[] {0x00}, header, thumbprint);
  }

  /** Seals plaintext to a gateway P-256 key that publishes an hpke_key_id. */
  public static String seal(GatewayKey key, byte[] plaintext) throws GeneralSecurityException {
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
    byte[] header = header(key.hpkeKeyId);
    byte[][] sealed = Hpke.sealBase(pkRm, info(header, thumbprint), header, plaintext);
    return Base64Url.encode(Base64Url.concat(header, sealed[0], sealed[1]));
  }
}
