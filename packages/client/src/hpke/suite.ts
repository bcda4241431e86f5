import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js'

/** RFC 9180 §7.1 KEM identifiers: DHKEM(P-256, HKDF-SHA256) and DHKEM(X25519, HKDF-SHA256). */
export const KEM_P256_HKDF_SHA256 = 0x0010
export const KEM_X25519_HKDF_SHA256 = 0x0020
/** RFC 9180 §7.2: HKDF-SHA256. */
export const KDF_HKDF_SHA256 = 0x0001
/** RFC 9180 §7.3: AES-128-GCM. */
export const AEAD_AES_128_GCM = 0x0001

export type KemId = typeof KEM_P256_HKDF_SHA256 | typeof KEM_X25519_HKDF_SHA256

/** I2OSP (RFC 8017 §4.1): `n` as a big-endian byte string of `length` bytes (length <= 6). */
export function i2osp(n: number, length: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0 || n >= 256 ** length) {
    throw new RangeError('integer too large for I2OSP')
  }
  const out = new Uint8Array(length)
  for (let i = length - 1, rest = n; i >= 0 && rest > 0; i--) {
    out[i] = rest % 256
    rest = Math.floor(rest / 256)
  }
  return out
}

/** RFC 9180 §4.1: the KEM's suite_id, "KEM" || I2OSP(kem_id, 2). */
export function kemSuiteId(kemId: number): Uint8Array {
  return concatBytes(utf8ToBytes('KEM'), i2osp(kemId, 2))
}

/** RFC 9180 §5.1: suite_id = "HPKE" || I2OSP(kem_id, 2) || I2OSP(kdf_id, 2) || I2OSP(aead_id, 2). */
export function hpkeSuiteId(kemId: number, kdfId: number, aeadId: number): Uint8Array {
  return concatBytes(utf8ToBytes('HPKE'), i2osp(kemId, 2), i2osp(kdfId, 2), i2osp(aeadId, 2))
}
