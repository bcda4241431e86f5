package sealedsearch.client;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;

/**
 * The Concat KDF of NIST SP 800-56A §5.8.1 as RFC 7518 §4.6.2 uses it for ECDH-ES, with SHA-256:
 * K(i) = SHA-256(counter_i || Z || OtherInfo), OtherInfo = AlgorithmID || PartyUInfo ||
 * PartyVInfo || SuppPubInfo, each of the first three as a 32-bit big-endian length and the bytes.
 */
final class ConcatKdf {
  private ConcatKdf() {}

  private static byte[] lengthPrefixed(byte[] data) {
    return ByteBuffer.allocate(4 + data.length).putInt(data.length).put(data).array();
  }

  /**
   * @param algorithmId for direct key agreement the "enc" value, else the "alg" value
   * @param keyBits keydatalen: the bits of key wanted (SuppPubInfo)
   */
  static byte[] derive(byte[] z, String algorithmId, byte[] apu, byte[] apv, int keyBits)
      throws GeneralSecurityException {
    byte[] otherInfo =
        Base64Url.concat(
            lengthPrefixed(algorithmId.getBytes(StandardCharsets.US_ASCII)),
            lengthPrefixed(apu),
            lengthPrefixed(apv),
            ByteBuffer.allocate(4).putInt(keyBits).array());
    int keyBytes = keyBits / 8;
    byte[] out = new byte[keyBytes];
    MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
    for (int counter = 1, at = 0; at < keyBytes; counter++) {
      sha256.update(ByteBuffer.allocate(4).putInt(counter).array());
      sha256.update(z);
      sha256.update(otherInfo);
      byte[] k = sha256.digest();
      int copy = Math.min(k.length, keyBytes - at);
      System.arraycopy(k, 0, out, at, copy);
      at += copy;
    }
    return out;
  }
}
