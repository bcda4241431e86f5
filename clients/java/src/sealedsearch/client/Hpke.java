package sealedsearch.client;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.interfaces.ECPublicKey;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * HPKE (RFC 9180) in mode_base for one suite: DHKEM(P-256, HKDF-SHA256) 0x0010, HKDF-SHA256
 * 0x0001, AES-128-GCM 0x0001. Written against the RFC from JDK primitives (KeyAgreement ECDH,
 * Mac HmacSHA256, Cipher AES/GCM); checked against RFC 9180 A.3.1.
 */
public final class Hpke {
  public static final int KEM_P256_HKDF_SHA256 = 0x0010;
  public static final int KDF_HKDF_SHA256 = 0x0001;
  public static final int AEAD_AES_128_GCM = 0x0001;
  private static final byte[] HPKE_V1 = ascii("HPKE-v1");
  private static final byte[] EMPTY = new byte[0];
  private static final int NH = 32;

  private Hpke() {}

  static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  static byte[] i2osp(int n, int length) {
    byte[] out = new byte[length];
    for (int i = length - 1; i >= 0; i--, n >>>= 8) out[i] = (byte) n;
    return out;
  }

  /** RFC 9180 §4.1: suite_id = "KEM" || I2OSP(kem_id, 2). */
  static byte[] kemSuiteId() {
    return Base64Url.concat(ascii("KEM"), i2osp(KEM_P256_HKDF_SHA256, 2));
  }

  /** RFC 9180 §5.1: suite_id = "HPKE" || I2OSP(kem_id, 2) || I2OSP(kdf_id, 2) || I2OSP(aead_id, 2). */
  static byte[] hpkeSuiteId() {
    return Base64Url.concat(
        ascii("HPKE"),
        i2osp(KEM_P256_HKDF_SHA256, 2),
        i2osp(KDF_HKDF_SHA256, 2),
        i2osp(AEAD_AES_128_GCM, 2));
  }

  private static byte[] hmac(byte[] key, byte[]... data) throws GeneralSecurityException {
    Mac mac = Mac.getInstance("HmacSHA256");
    // RFC 5869 §2.2: an absent salt is HashLen zeros (a JCA key may not be empty).
    mac.init(new SecretKeySpec(key.length == 0 ? new byte[NH] : key, "HmacSHA256"));
    for (byte[] d : data) mac.update(d);
    return mac.doFinal();
  }

  /** RFC 5869 §2.3 HKDF-Expand with SHA-256. */
  static byte[] hkdfExpand(byte[] prk, byte[] info, int length) throws GeneralSecurityException {
    if (length <= 0 || length > 255 * NH) throw new IllegalArgumentException("HKDF length");
    byte[] out = new byte[length];
    byte[] t = EMPTY;
    for (int i = 1, at = 0; at < length; i++) {
      t = hmac(prk, t, info, new byte[] {(byte) i});
      int copy = Math.min(t.length, length - at);
      System.arraycopy(t, 0, out, at, copy);
      at += copy;
    }
    return out;
  }

  /** RFC 9180 §4: LabeledExtract(salt, label, ikm) = Extract(salt, "HPKE-v1" || suite_id || label || ikm). */
  static byte[] labeledExtract(byte[] suiteId, byte[] salt, String label, byte[] ikm)
      throws GeneralSecurityException {
    return hmac(salt, HPKE_V1, suiteId, ascii(label), ikm);
  }

  /** RFC 9180 §4: LabeledExpand(prk, label, info, L) = Expand(prk, I2OSP(L, 2) || "HPKE-v1" || suite_id || label || info, L). */
  static byte[] labeledExpand(byte[] suiteId, byte[] prk, String label, byte[] info, int length)
      throws GeneralSecurityException {
    byte[] labeledInfo = Base64Url.concat(i2osp(length, 2), HPKE_V1, suiteId, ascii(label), info);
    return hkdfExpand(prk, labeledInfo, length);
  }

  /** RFC 9180 §4.1 ExtractAndExpand(dh, kem_context). */
  static byte[] extractAndExpand(byte[] dh, byte[] kemContext) throws GeneralSecurityException {
    byte[] eaePrk = labeledExtract(kemSuiteId(), EMPTY, "eae_prk", dh);
    return labeledExpand(kemSuiteId(), eaePrk, "shared_secret", kemContext, 32);
  }

  /** Encap's result: the shared secret and enc, SerializePublicKey(pkE). */
  public static final class Encapsulation {
    public final byte[] sharedSecret;
    public final byte[] enc;

    Encapsulation(byte[] sharedSecret, byte[] enc) {
      this.sharedSecret = sharedSecret;
      this.enc = enc;
    }
  }

  /** RFC 9180 §4.1 Encap(pkR), with a fresh ephemeral key pair. */
  static Encapsulation encap(byte[] pkRm) throws GeneralSecurityException {
    ECPublicKey pkR = P256.fromUncompressed(pkRm);
    KeyPair ephemeral = P256.ephemeral();
    byte[] dh = P256.dh(ephemeral.getPrivate(), pkR);
    byte[] enc = P256.uncompressed((ECPublicKey) ephemeral.getPublic());
    byte[] sharedSecret = extractAndExpand(dh, Base64Url.concat(enc, pkRm));
    Arrays.fill(dh, (byte) 0);
    return new Encapsulation(sharedSecret, enc);
  }

  /** RFC 9180 §4.1 Decap(enc, skR): the recipient's side, for checking against the RFC's vector. */
  static byte[] decap(byte[] enc, byte[] skRm, byte[] pkRm) throws GeneralSecurityException {
    PrivateKey skR = P256.privateKey(skRm);
    byte[] dh = P256.dh(skR, P256.fromUncompressed(enc));
    byte[] sharedSecret = extractAndExpand(dh, Base64Url.concat(enc, pkRm));
    Arrays.fill(dh, (byte) 0);
    return sharedSecret;
  }

  /** RFC 9180 §5.1 KeySchedule in mode_base (default psk, psk_id): {key (16), base_nonce (12)}. */
  static byte[][] keySchedule(byte[] sharedSecret, byte[] info) throws GeneralSecurityException {
    byte[] suiteId = hpkeSuiteId();
    byte[] pskIdHash = labeledExtract(suiteId, EMPTY, "psk_id_hash", EMPTY);
    byte[] infoHash = labeledExtract(suiteId, EMPTY, "info_hash", info);
    byte[] context = Base64Url.concat(new byte[] {0x00}, pskIdHash, infoHash);
    byte[] secret = labeledExtract(suiteId, sharedSecret, "secret", EMPTY);
    byte[] key = labeledExpand(suiteId, secret, "key", context, 16);
    byte[] baseNonce = labeledExpand(suiteId, secret, "base_nonce", context, 12);
    Arrays.fill(secret, (byte) 0);
    return new byte[][] {key, baseNonce};
  }

  /** RFC 9180 §5.2: nonce = base_nonce XOR I2OSP(seq, Nn). */
  static byte[] nonce(byte[] baseNonce, long seq) {
    byte[] out = baseNonce.clone();
    byte[] s = ByteBuffer.allocate(8).putLong(seq).array();
    for (int i = 0; i < 8; i++) out[out.length - 8 + i] ^= s[i];
    return out;
  }

  /** AES-128-GCM Seal(key, nonce, aad, pt) = ciphertext || 16-byte tag. */
  static byte[] aeadSeal(byte[] key, byte[] nonce, byte[] aad, byte[] plaintext)
      throws GeneralSecurityException {
    Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
    gcm.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(128, nonce));
    gcm.updateAAD(aad);
    return gcm.doFinal(plaintext);
  }

  /** RFC 9180 §6.1 single-shot Seal in mode_base: {enc, ciphertext}. */
  public static byte[][] sealBase(byte[] pkRm, byte[] info, byte[] aad, byte[] plaintext)
      throws GeneralSecurityException {
    Encapsulation e = encap(pkRm);
    byte[][] schedule = keySchedule(e.sharedSecret, info);
    Arrays.fill(e.sharedSecret, (byte) 0);
    // Sequence number 0: the nonce is base_nonce.
    byte[] ciphertext = aeadSeal(schedule[0], nonce(schedule[1], 0), aad, plaintext);
    Arrays.fill(schedule[0], (byte) 0);
    return new byte[][] {e.enc, ciphertext};
  }
}
