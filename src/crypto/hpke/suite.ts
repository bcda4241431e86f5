import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js'

/** RFC 9180 §7.1 KEM identifiers implemented here. */
export const KEM_P256_HKDF_SHA256 = 0x0010
export const KEM_X25519_HKDF_SHA256 = 0x0020
/** draft-ietf-hpke-pq §3 (draft-connolly-cfrg-xwing-kem): X-Wing, ML-KEM-768 + X25519. */
export const KEM_XWING = 0x647a
/** RFC 9180 §7.2 KDF identifier implemented here (every suite, the hybrid one too). */
export const KDF_HKDF_SHA256 = 0x0001
/** RFC 9180 §7.3 AEAD identifier implemented here. */
export const AEAD_AES_128_GCM = 0x0001
/** RFC 9180 §7.3: ChaCha20-Poly1305 (RFC 8439), the AEAD of the X-Wing token. */
export const AEAD_CHACHA20_POLY1305 = 0x0003

export type KemId = typeof KEM_P256_HKDF_SHA256 | typeof KEM_X25519_HKDF_SHA256

/** RFC 9180 §5: mode_base, the only mode used (no PSK, no sender authentication). */
export const MODE_BASE = 0x00

/** I2OSP (RFC 8017 §4.1): `n` as a big-endian byte string of `length` bytes. */
export function i2osp(n: number, length: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0 || (length < 7 && n >= 256 ** length)) {
    throw new RangeError('integer too large for I2OSP')
  }
  const out = new Uint8Array(length)
  for (let i = length - 1, rest = n; i >= 0 && rest > 0; i--) {
    out[i] = rest % 256
    rest = Math.floor(rest / 256)
  }
  return out
}

/** RFC 9180 §4.1: the KEM's own suite_id, "KEM" || I2OSP(kem_id, 2). */
export function kemSuiteId(kemId: number): Uint8Array {
  return concatBytes(utf8ToBytes('KEM'), i2osp(kemId, 2))
}

/** RFC 9180 §5.1: suite_id = "HPKE" || I2OSP(kem_id, 2) || I2OSP(kdf_id, 2) || I2OSP(aead_id, 2). */
export function hpkeSuiteId(kemId: number, kdfId: number, aeadId: number): Uint8Array {
  return concatBytes(utf8ToBytes('HPKE'), i2osp(kemId, 2), i2osp(kdfId, 2), i2osp(aeadId, 2))
}
