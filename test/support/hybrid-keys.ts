import { generateXWingKey } from '../../src/keys/jwk.js'
import { hybridRingKey, openXWingKey, type HybridRingKey } from '../../src/keys/ring/hybrid-key.js'
import { KeyRing } from '../../src/keys/ring/keyring.js'
import { twoKeyRing } from './keys.js'

/** The HPKE key id the test X-Wing key is published under. */
export const HYBRID_KEY_ID = 9

/**
 * A ring with one active P-256, X25519 and X-Wing key each, and the X-Wing key's seed (for the
 * partner library that opens the gateway's tokens the other way round).
 */
export async function threeKeyRing(): Promise<{
  ring: KeyRing
  hybrid: HybridRingKey
  seed: Uint8Array
}> {
  const classic = (await twoKeyRing()).ring
  const jwk = await generateXWingKey()
  const info = {
    kid: jwk.kid,
    state: 'active' as const,
    created: new Date(0).toISOString(),
    notAfter: null,
    hpkeKeyId: HYBRID_KEY_ID,
  }
  const hybrid = hybridRingKey(info, await openXWingKey(jwk.kid, jwk, 'test key'))
  return {
    ring: new KeyRing(classic.keys, [hybrid]),
    hybrid,
    seed: new Uint8Array(Buffer.from(jwk.priv, 'base64url')),
  }
}
