import {
  createHash,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  type KeyObject,
} from 'node:crypto'
import { expandXWingKey, MLKEM768_CIPHERTEXT_LENGTH, XWING_SIZES } from '../../crypto/hpke/xwing.js'
import { AgreementError } from './agreement.js'
import { residentMlKem768Key, type ResidentMlKemKey } from './mlkem-resident.js'

/**
 * The gateway's X-Wing decapsulation (draft-connolly-cfrg-xwing-kem §5.5). The private key is
 * expanded once, when the key is opened (SHAKE256, ML-KEM-768 KeyGen_internal): the 2,400-byte
 * ML-KEM decapsulation key and the X25519 key stay inside src/keys/, and no token re-expands them.
 * ML-KEM-768 decapsulation runs in liboqs compiled to WebAssembly with the key resident in its
 * memory (mlkem-resident.ts; README "Dependencies" says why liboqs), X25519 and SHA3-256 in
 * node:crypto.
 */

const XWING_LABEL = Buffer.from([0x5c, 0x2e, 0x2f, 0x2f, 0x5e, 0x5c])

/** Decapsulates X-Wing ciphertexts for one private key; never hands the key out. */
export interface XWingDecapsulator {
  /** pk_M || pk_X, computed from the seed (never taken from a JWK). */
  readonly publicKey: Uint8Array
  /**
   * The X-Wing shared secret for `enc` (ct_M || ct_X), which the caller wipes. Throws
   * ERR_AGREEMENT_POINT_INVALID for an enc of the wrong length and ERR_AGREEMENT_DEGENERATE for a
   * ct_X of small order (after ML-KEM decapsulation, so both halves always run).
   */
  decapsulate(enc: Uint8Array): Promise<Uint8Array>
  /**
   * Overwrites the ML-KEM decapsulation key where it is held (the key left the ring, or its
   * follower closed); every later decapsulate fails with ERR_KEY_UNAVAILABLE.
   */
  destroy(): void
}

function isAllZero(bytes: Uint8Array): boolean {
  let acc = 0
  for (const b of bytes) acc |= b
  return acc === 0
}

/** Expands the 32-byte seed once and returns the decapsulator holding the expanded key. */
export async function xwingDecapsulator(seed: Uint8Array): Promise<XWingDecapsulator> {
  const expanded = expandXWingKey(seed)
  const { decapsulationKeyM, publicKeyX } = expanded
  const publicKey = new Uint8Array(XWING_SIZES.nPk)
  publicKey.set(expanded.publicKeyM)
  publicKey.set(publicKeyX, expanded.publicKeyM.length)
  const pkX = Buffer.from(publicKeyX)
  const secretX: KeyObject = createPrivateKey({
    key: {
      kty: 'OKP',
      crv: 'X25519',
      d: Buffer.from(expanded.secretKeyX).toString('base64url'),
      x: Buffer.from(publicKeyX).toString('base64url'),
    },
    format: 'jwk',
  })
  expanded.secretKeyX.fill(0)
  let keyM: ResidentMlKemKey
  try {
    keyM = await residentMlKem768Key(decapsulationKeyM)
  } finally {
    decapsulationKeyM.fill(0)
  }

  return {
    publicKey,
    async decapsulate(enc) {
      if (enc.length !== XWING_SIZES.nEnc) throw new AgreementError('ERR_AGREEMENT_POINT_INVALID')
      const ctM = enc.subarray(0, MLKEM768_CIPHERTEXT_LENGTH)
      const ctX = enc.subarray(MLKEM768_CIPHERTEXT_LENGTH)
      // FIPS 203 §6.3: implicit rejection; a tampered ct_M gives a pseudorandom ss_M, no error.
      let ssM: Uint8Array
      try {
        ssM = keyM.decapsulate(ctM)
      } catch (cause) {
        throw new AgreementError('ERR_KEY_UNAVAILABLE', { cause })
      }
      let ssX: Buffer
      try {
        const x = Buffer.from(ctX.buffer, ctX.byteOffset, ctX.byteLength).toString('base64url')
        const ephemeral = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x }, format: 'jwk' })
        ssX = diffieHellman({ privateKey: secretX, publicKey: ephemeral })
      } catch (cause) {
        ssM.fill(0)
        throw new AgreementError('ERR_AGREEMENT_DEGENERATE', { cause })
      }
      if (isAllZero(ssX)) {
        ssM.fill(0)
        throw new AgreementError('ERR_AGREEMENT_DEGENERATE')
      }
      // §5.3 Combiner: SHA3-256(ss_M || ss_X || ct_X || pk_X || XWingLabel).
      const digest = createHash('sha3-256')
        .update(ssM)
        .update(ssX)
        .update(ctX)
        .update(pkX)
        .update(XWING_LABEL)
        .digest()
      ssM.fill(0)
      ssX.fill(0)
      const sharedSecret = new Uint8Array(digest)
      digest.fill(0)
      return sharedSecret
    },
    destroy() {
      keyM.destroy()
    },
  }
}
