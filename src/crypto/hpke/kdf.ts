import { expand, extract } from '@noble/hashes/hkdf.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js'
import { HpkeError } from './errors.js'
import { i2osp, KDF_HKDF_SHA256 } from './suite.js'

/** HKDF-SHA256 (RFC 5869), KDF id 0x0001: Nh = 32. */
export const NH = 32

/**
 * A two-step KDF (RFC 9180 §4, §7.2): Extract and Expand kept apart, as the labeled functions
 * need them. Two implementations of HKDF-SHA256: `HKDF_SHA256` (@noble/hashes: the client,
 * browsers, the sender everywhere) and `NODE_HKDF_SHA256` (node-primitives.ts: the gateway).
 */
export interface Kdf {
  readonly id: number
  /** Nh (RFC 9180 §7.2 table). */
  readonly nH: number
  /** RFC 5869 §2.2 Extract(salt, IKM); an empty salt means Nh zero bytes. */
  extract(salt: Uint8Array, ikm: Uint8Array): Uint8Array
  /** RFC 5869 §2.3 Expand(PRK, info, L); the caller checks len(PRK) >= Nh and L <= 255 * Nh. */
  expand(prk: Uint8Array, info: Uint8Array, length: number): Uint8Array
}

/** HKDF-SHA256 on @noble/hashes (pure JavaScript, runs anywhere). */
export const HKDF_SHA256: Kdf = {
  id: KDF_HKDF_SHA256,
  nH: NH,
  // noble treats an empty salt as HMAC's zero-padded key, which is the same as Nh zero bytes.
  extract: (salt, ikm) => extract(sha256, ikm, salt),
  expand: (prk, info, length) => expand(sha256, prk, info, length),
}

const HPKE_V1 = utf8ToBytes('HPKE-v1')

/** RFC 9180 §4: LabeledExtract(salt, label, ikm) = Extract(salt, "HPKE-v1" || suite_id || label || ikm). */
export function labeledExtract(
  suiteId: Uint8Array,
  salt: Uint8Array,
  label: string,
  ikm: Uint8Array,
  kdf: Kdf = HKDF_SHA256,
): Uint8Array {
  return kdf.extract(salt, concatBytes(HPKE_V1, suiteId, utf8ToBytes(label), ikm))
}

/**
 * RFC 9180 §4: LabeledExpand(prk, label, info, L) =
 * Expand(prk, I2OSP(L, 2) || "HPKE-v1" || suite_id || label || info, L).
 */
export function labeledExpand(
  suiteId: Uint8Array,
  prk: Uint8Array,
  label: string,
  info: Uint8Array,
  length: number,
  kdf: Kdf = HKDF_SHA256,
): Uint8Array {
  // RFC 5869 §2.3: PRK of at least HashLen octets, L <= 255 * HashLen.
  if (prk.length < kdf.nH || !Number.isInteger(length) || length <= 0 || length > 255 * kdf.nH) {
    throw new HpkeError('ERR_HPKE_INPUT_LENGTH')
  }
  const labeledInfo = concatBytes(i2osp(length, 2), HPKE_V1, suiteId, utf8ToBytes(label), info)
  return kdf.expand(prk, labeledInfo, length)
}
