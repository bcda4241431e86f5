import { randomBytes } from 'node:crypto'
import { KeyStoreError } from '../errors.js'
import { thumbprint, XWING, type XWingPublicJwk } from '../jwk.js'
import type { RingKeyInfo } from './keyring.js'
import { xwingDecapsulator } from './xwing.js'

/** The private half of an X-Wing key: the 32-byte seed (draft-connolly-cfrg-xwing-kem §5.2). */
export interface XWingPrivateJwk {
  kty: 'AKP'
  alg: typeof XWING
  pub: string
  /** base64url of the 32-byte seed: the form the JOSE AKP drafts and X-Wing both keep. */
  priv: string
  kid: string
}

/**
 * A ring key of the hybrid KEM: its public JWK and `decapsulate`, never the private key, which
 * stays expanded in src/keys/xwing.ts. It has no `agree`: it opens HPKE tokens of KEM 0x647a only.
 */
export interface HybridRingKey extends Omit<RingKeyInfo, 'crv' | 'publicJwk'> {
  readonly crv: typeof XWING
  readonly publicJwk: XWingPublicJwk
  readonly store: 'in-process'
  /** X-Wing Decapsulate(enc, sk): the 32-byte shared secret, which the caller wipes. */
  decapsulate(enc: Uint8Array): Promise<Uint8Array>
}

/** A new X-Wing key: a random 32-byte seed and the public key and kid computed from it. */
export async function generateXWingKey(): Promise<XWingPrivateJwk> {
  const seed = randomBytes(32)
  const { publicKey } = await xwingDecapsulator(seed)
  const pub = Buffer.from(publicKey).toString('base64url')
  const kid = await thumbprint({ kty: 'AKP', alg: XWING, pub })
  const jwk = { kty: 'AKP', alg: XWING, pub, priv: seed.toString('base64url'), kid } as const
  seed.fill(0)
  return jwk
}

/**
 * Opens an X-Wing private JWK: the seed is expanded once, the public key is computed from it and
 * must be `pub`, and the kid must be its RFC 7638 thumbprint. `where` names it in errors; the
 * key's content never appears in one.
 */
export async function hybridRingKey(
  info: Omit<RingKeyInfo, 'crv' | 'publicJwk'>,
  jwk: XWingPrivateJwk,
  where: string,
): Promise<HybridRingKey> {
  const seed = Buffer.from(jwk.priv, 'base64url')
  if (jwk.kty !== 'AKP' || jwk.alg !== XWING || seed.length !== 32) {
    seed.fill(0)
    throw new KeyStoreError('ERR_KEYS_FILE_INVALID', `${where}: not an X-Wing key`)
  }
  const decapsulator = await xwingDecapsulator(seed)
  seed.fill(0)
  const pub = Buffer.from(decapsulator.publicKey).toString('base64url')
  if (pub !== jwk.pub) {
    throw new KeyStoreError('ERR_KEYS_KID_MISMATCH', `${where}: priv is not the key of pub`)
  }
  const publicJwk: XWingPublicJwk = { kty: 'AKP', alg: XWING, pub, kid: info.kid, use: 'enc' }
  if (info.hpkeKeyId !== undefined) publicJwk.hpke_key_id = info.hpkeKeyId
  if ((await thumbprint({ kty: 'AKP', alg: XWING, pub })) !== info.kid) {
    throw new KeyStoreError('ERR_KEYS_KID_MISMATCH', `${where}: kid is not its thumbprint`)
  }
  return Object.freeze({
    ...info,
    crv: XWING,
    publicJwk,
    store: 'in-process',
    decapsulate: (enc: Uint8Array) => decapsulator.decapsulate(enc),
  })
}
