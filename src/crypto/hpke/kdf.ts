import { expand, extract } from '@noble/hashes/hkdf.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js'
import { HpkeError } from './errors.js'
import { i2osp } from './suite.js'

/** HKDF-SHA256 (RFC 5869), KDF id 0x0001: Nh = 32. */
export const NH = 32

const HPKE_V1 = utf8ToBytes('HPKE-v1')

/** RFC 9180 §4: LabeledExtract(salt, label, ikm) = Extract(salt, "HPKE-v1" || suite_id || label || ikm). */
export function labeledExtract(
  suiteId: Uint8Array,
  salt: Uint8Array,
  label: string,
  ikm: Uint8Array,
): Uint8Array {
  return extract(sha256, concatBytes(HPKE_V1, suiteId, utf8ToBytes(label), ikm), salt)
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
): Uint8Array {
  // RFC 5869 §2.3: L <= 255 * HashLen.
  if (!Number.isInteger(length) || length <= 0 || length > 255 * NH) {
    throw new HpkeError('ERR_HPKE_INPUT_LENGTH')
  }
  const labeledInfo = concatBytes(i2osp(length, 2), HPKE_V1, suiteId, utf8ToBytes(label), info)
  return expand(sha256, prk, labeledInfo, length)
}
