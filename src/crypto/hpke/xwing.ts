import { x25519 } from '@noble/curves/ed25519.js'
import { sha3_256, shake256 } from '@noble/hashes/sha3.js'
import { concatBytes, randomBytes, utf8ToBytes } from '@noble/hashes/utils.js'
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js'
import { HpkeError } from './errors.js'
import { i2osp, kemSuiteId, KEM_XWING } from './suite.js'

/**
 * X-Wing (draft-connolly-cfrg-xwing-kem), ML-KEM-768 + X25519, as the HPKE KEM 0x647a of
 * draft-ietf-hpke-pq: its shared secret is X-Wing's own (no ExtractAndExpand). Portable code
 * (@noble/post-quantum, @noble/curves, @noble/hashes): the sender everywhere, and the key
 * expansion the gateway runs once per key. The gateway's decapsulation is in src/keys/ring/xwing.ts.
 */

/** ML-KEM-768 sizes (FIPS 203 §8, Table 3). */
export const MLKEM768_PUBLIC_KEY_LENGTH = 1184
export const MLKEM768_DECAPSULATION_KEY_LENGTH = 2400
export const MLKEM768_CIPHERTEXT_LENGTH = 1088

/** Nsecret, Nenc, Npk, Nsk of X-Wing (draft-connolly-cfrg-xwing-kem §5; draft-ietf-hpke-pq). */
export const XWING_SIZES = { nSecret: 32, nEnc: 1120, nPk: 1216, nSk: 32 } as const

/** XWingLabel = "\./" || "/^\" (draft-connolly-cfrg-xwing-kem §5.4). */
const XWING_LABEL = Uint8Array.of(0x5c, 0x2e, 0x2f, 0x2f, 0x5e, 0x5c)

/** The expanded private key: what decapsulation needs, computed once from the 32-byte seed. */
export interface ExpandedXWingKey {
  /** ML-KEM-768 decapsulation key (FIPS 203 KeyGen_internal(d, z)), 2,400 bytes. */
  readonly decapsulationKeyM: Uint8Array
  readonly secretKeyX: Uint8Array
  readonly publicKeyM: Uint8Array
  readonly publicKeyX: Uint8Array
}

/**
 * draft-connolly-cfrg-xwing-kem §5.2 expandDecapsulationKey: SHAKE256(sk, 96) gives d || z for
 * ML-KEM-768 and the X25519 private key.
 */
export function expandXWingKey(seed: Uint8Array): ExpandedXWingKey {
  if (seed.length !== XWING_SIZES.nSk) throw new HpkeError('ERR_HPKE_INPUT_LENGTH')
  const expanded = shake256(seed, { dkLen: 96 })
  const { publicKey, secretKey } = ml_kem768.keygen(expanded.subarray(0, 64))
  const secretKeyX = expanded.slice(64, 96)
  expanded.fill(0)
  return {
    decapsulationKeyM: secretKey,
    secretKeyX,
    publicKeyM: publicKey,
    publicKeyX: x25519.getPublicKey(secretKeyX),
  }
}

/** The public key pk_M || pk_X (1,216 bytes). */
export function xwingPublicKey(key: ExpandedXWingKey): Uint8Array {
  return concatBytes(key.publicKeyM, key.publicKeyX)
}

/** draft-connolly-cfrg-xwing-kem §5.3 Combiner: SHA3-256(ss_M || ss_X || ct_X || pk_X || label). */
export function xwingCombiner(
  ssM: Uint8Array,
  ssX: Uint8Array,
  ctX: Uint8Array,
  pkX: Uint8Array,
): Uint8Array {
  return sha3_256(concatBytes(ssM, ssX, ctX, pkX, XWING_LABEL))
}

/**
 * draft-ietf-hpke-pq DeriveKeyPair for X-Wing: sk = SHAKE256(ikm || "HPKE-v1" || suite_id ||
 * I2OSP(len(label), 2) || "DeriveKeyPair" || I2OSP(Nsk, 2)), the one-stage LabeledDerive.
 */
export function xwingDeriveSeed(ikm: Uint8Array): Uint8Array {
  const label = utf8ToBytes('DeriveKeyPair')
  const labeled = concatBytes(
    ikm,
    utf8ToBytes('HPKE-v1'),
    kemSuiteId(KEM_XWING),
    i2osp(label.length, 2),
    label,
    i2osp(XWING_SIZES.nSk, 2),
  )
  return shake256(labeled, { dkLen: XWING_SIZES.nSk })
}

/**
 * draft-connolly-cfrg-xwing-kem §5.4 Encapsulate(pk), `eseed` (64 bytes: the ML-KEM message m
 * and the ephemeral X25519 key) only for tests that replay a known encapsulation. pk_M is checked
 * by ML-KEM's modulus check (FIPS 203 §7.2); a pk_X of small order gives an all-zero ss_X, which
 * noble refuses.
 */
export function xwingEncap(
  publicKey: Uint8Array,
  eseed: Uint8Array = randomBytes(64),
): { sharedSecret: Uint8Array; enc: Uint8Array } {
  if (publicKey.length !== XWING_SIZES.nPk || eseed.length !== 64) {
    throw new HpkeError('ERR_HPKE_DESERIALIZE')
  }
  const pkM = publicKey.subarray(0, MLKEM768_PUBLIC_KEY_LENGTH)
  const pkX = publicKey.subarray(MLKEM768_PUBLIC_KEY_LENGTH)
  const ekX = eseed.subarray(32, 64)
  let ssM: Uint8Array, ctM: Uint8Array, ssX: Uint8Array
  try {
    ;({ sharedSecret: ssM, cipherText: ctM } = ml_kem768.encapsulate(pkM, eseed.subarray(0, 32)))
    ssX = x25519.getSharedSecret(ekX, pkX)
  } catch (cause) {
    throw new HpkeError('ERR_HPKE_DESERIALIZE', { cause })
  }
  const ctX = x25519.getPublicKey(ekX)
  const sharedSecret = xwingCombiner(ssM, ssX, ctX, pkX)
  ssM.fill(0)
  ssX.fill(0)
  return { sharedSecret, enc: concatBytes(ctM, ctX) }
}

/**
 * draft-connolly-cfrg-xwing-kem §5.5 Decapsulate, pure JavaScript, for tests and tools; the
 * gateway decapsulates in src/keys/ring/xwing.ts (ML-KEM in WebAssembly). ML-KEM's implicit rejection
 * makes a bad ct_M give a pseudorandom ss_M, not an error.
 */
export function xwingDecap(enc: Uint8Array, key: ExpandedXWingKey): Uint8Array {
  if (enc.length !== XWING_SIZES.nEnc) throw new HpkeError('ERR_HPKE_DESERIALIZE')
  const ctM = enc.subarray(0, MLKEM768_CIPHERTEXT_LENGTH)
  const ctX = enc.subarray(MLKEM768_CIPHERTEXT_LENGTH)
  const ssM = ml_kem768.decapsulate(ctM, key.decapsulationKeyM)
  let ssX: Uint8Array
  try {
    ssX = x25519.getSharedSecret(key.secretKeyX, ctX)
  } catch (cause) {
    ssM.fill(0)
    throw new HpkeError('ERR_HPKE_VALIDATION', { cause })
  }
  const sharedSecret = xwingCombiner(ssM, ssX, ctX, key.publicKeyX)
  ssM.fill(0)
  ssX.fill(0)
  return sharedSecret
}

/** X-Wing as an HPKE KEM, for `xwingSuite` (setup.ts's sender side). */
export interface XWingKem {
  readonly kemId: typeof KEM_XWING
  readonly nSecret: number
  readonly nEnc: number
  readonly nPk: number
  encap(publicKey: Uint8Array, eseed?: Uint8Array): { sharedSecret: Uint8Array; enc: Uint8Array }
}

export const XWING_KEM: XWingKem = {
  kemId: KEM_XWING,
  nSecret: XWING_SIZES.nSecret,
  nEnc: XWING_SIZES.nEnc,
  nPk: XWING_SIZES.nPk,
  encap: xwingEncap,
}
