import { AgreementError, withSharedSecret, type Agreeing } from '../../keys/ring/agreement.js'
import type { Curve } from '../../keys/jwk.js'
import { HpkeError } from './errors.js'
import { setupBaseRFromSecret, type CipherSuite } from './setup.js'
import { KEM_P256_HKDF_SHA256, KEM_X25519_HKDF_SHA256 } from './suite.js'

/**
 * The gateway's side of DHKEM: DH(skR, pkE) is the ring key's `agree` (src/keys/ring/agreement.ts,
 * which checks pkE, refuses the all-zero X25519 output and wipes the DH output), and the rest of
 * Decap and the key schedule are the shared code, on the suite's primitives (node:crypto HKDF and
 * AES-GCM on the gateway). Accepts and refuses exactly what the noble path does
 * (test/crypto/hpke-node.test.ts checks both).
 */

/** The KEM of each curve a gateway key may use. */
export const KEM_FOR_CURVE: Record<Curve, number> = {
  'P-256': KEM_P256_HKDF_SHA256,
  X25519: KEM_X25519_HKDF_SHA256,
}

/**
 * RFC 9180 §4.1 Decap(enc, skR) with skR behind `key`. `publicKey` is SerializePublicKey(pkR),
 * from the published JWK, for the KEM context. Refusals are HPKE's: ERR_HPKE_DESERIALIZE for an
 * enc that is not a point of the group (§7.1.1), ERR_HPKE_VALIDATION for a degenerate DH (§7.1.4).
 */
export async function decapWithKey(
  suite: CipherSuite,
  enc: Uint8Array,
  key: Agreeing,
  publicKey: Uint8Array,
): Promise<Uint8Array> {
  // A programmer's error (the ring pairs keys and KEMs), not a property of the token.
  if (KEM_FOR_CURVE[key.crv] !== suite.kem.group.kemId) {
    throw new TypeError('the key does not fit the KEM')
  }
  try {
    return await withSharedSecret(key, enc, (dh) =>
      suite.kem.decapShared(enc, dh, publicKey, suite.kdf),
    )
  } catch (error) {
    if (error instanceof AgreementError && error.code === 'ERR_AGREEMENT_POINT_INVALID') {
      throw new HpkeError('ERR_HPKE_DESERIALIZE', { cause: error })
    }
    if (error instanceof AgreementError && error.code === 'ERR_AGREEMENT_DEGENERATE') {
      throw new HpkeError('ERR_HPKE_VALIDATION', { cause: error })
    }
    throw error
  }
}

/** RFC 9180 §6.1 single-shot Open (mode_base) with skR behind `key`. */
export async function openWithKey(
  suite: CipherSuite,
  enc: Uint8Array,
  key: Agreeing,
  publicKey: Uint8Array,
  info: Uint8Array,
  aad: Uint8Array,
  ciphertext: Uint8Array,
): Promise<Uint8Array> {
  const sharedSecret = await decapWithKey(suite, enc, key, publicKey)
  return setupBaseRFromSecret(suite, sharedSecret, info).open(aad, ciphertext)
}
