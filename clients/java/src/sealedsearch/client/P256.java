package sealedsearch.client;

import java.math.BigInteger;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPrivateKeySpec;
import java.security.spec.ECPublicKeySpec;
import javax.crypto.KeyAgreement;

/** NIST P-256 (secp256r1) through java.security: keys, encodings and ECDH. */
final class P256 {
  static final ECParameterSpec PARAMS;
  private static final BigInteger P;
  private static final BigInteger B;

  static {
    try {
      AlgorithmParameters ap = AlgorithmParameters.getInstance("EC");
      ap.init(new ECGenParameterSpec("secp256r1"));
      PARAMS = ap.getParameterSpec(ECParameterSpec.class);
      P = ((java.security.spec.ECFieldFp) PARAMS.getCurve().getField()).getP();
      B = PARAMS.getCurve().getB();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JDK has no secp256r1", e);
    }
  }

  private P256() {}

  /** Big-endian, left-padded to 32 bytes (RFC 7518 §6.2.1.2: full-size coordinates). */
  static byte[] fixed32(BigInteger n) {
    byte[] raw = n.toByteArray();
    byte[] out = new byte[32];
    int copy = Math.min(raw.length, 32);
    System.arraycopy(raw, raw.length - copy, out, 32 - copy, copy);
    return out;
  }

  /**
   * A public key from its coordinates, refused unless the point is on the curve (y^2 = x^3 - 3x +
   * b mod p, coordinates below p): an invalid-curve point must never reach the key agreement.
   */
  static ECPublicKey publicKey(byte[] x, byte[] y) throws GeneralSecurityException {
    BigInteger bx = new BigInteger(1, x);
    BigInteger by = new BigInteger(1, y);
    if (bx.compareTo(P) >= 0 || by.compareTo(P) >= 0) throw new IllegalArgumentException("not a P-256 point");
    BigInteger lhs = by.modPow(BigInteger.TWO, P);
    BigInteger rhs = bx.pow(3).subtract(bx.multiply(BigInteger.valueOf(3))).add(B).mod(P);
    if (!lhs.equals(rhs)) throw new IllegalArgumentException("not a P-256 point");
    KeyFactory kf = KeyFactory.getInstance("EC");
    return (ECPublicKey) kf.generatePublic(new ECPublicKeySpec(new ECPoint(bx, by), PARAMS));
  }

  /** SEC1 uncompressed 0x04 || x || y (65 bytes) to a public key. */
  static ECPublicKey fromUncompressed(byte[] point) throws GeneralSecurityException {
    if (point.length != 65 || point[0] != 0x04) throw new IllegalArgumentException("not an uncompressed P-256 point");
    return publicKey(Base64Url.slice(point, 1, 33), Base64Url.slice(point, 33, 65));
  }

  static byte[] uncompressed(ECPublicKey key) {
    ECPoint w = key.getW();
    return Base64Url.concat(new byte[] {0x04}, fixed32(w.getAffineX()), fixed32(w.getAffineY()));
  }

  static PrivateKey privateKey(byte[] scalar) throws GeneralSecurityException {
    return KeyFactory.getInstance("EC").generatePrivate(new ECPrivateKeySpec(new BigInteger(1, scalar), PARAMS));
  }

  static KeyPair ephemeral() throws GeneralSecurityException {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(PARAMS);
    return g.generateKeyPair();
  }

  /** ECDH: the x-coordinate of the shared point, 32 bytes. */
  static byte[] dh(PrivateKey secret, PublicKey peer) throws GeneralSecurityException {
    KeyAgreement ka = KeyAgreement.getInstance("ECDH");
    ka.init(secret);
    ka.doPhase(peer, true);
    byte[] z = ka.generateSecret();
    if (z.length != 32) throw new GeneralSecurityException("unexpected ECDH output length");
    return z;
  }
}
