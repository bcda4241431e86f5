import { KeyStoreError } from '../errors.js'
import { thumbprint, XWING, type XWingPrivateJwk, type XWingPublicJwk } from '../jwk.js'
import type { RingKeyInfo } from './ring-key.js'
import { xwingDecapsulator, type XWingDecapsulator } from './xwing.js'

/**
 * A ring key of the hybrid KEM: its public JWK and `decapsulate`, never the private key, which
 * stays expanded in xwing.ts. It has no `agree`: it opens HPKE tokens of KEM 0x647a only.
 */
export interface HybridRingKey extends Omit<RingKeyInfo, 'crv' | 'publicJwk'> {
  readonly crv: typeof XWING
  readonly publicJwk: XWingPublicJwk
  readonly store: 'in-process'
  /** X-Wing Decapsulate(enc, sk): the 32-byte shared secret, which the caller wipes. */
  decapsulate(enc: Uint8Array): Promise<Uint8Array>
}

/** An opened X-Wing key: its public key checked against its seed, expanded once. */
export interface OpenedXWingKey {
  readonly pub: string
  readonly decapsulator: XWingDecapsulator
}

/**
 * Opens an X-Wing private JWK: the seed is expanded once, the public key is computed from it and
 * must be `pub`, and `kid` must be its RFC 7638 thumbprint. `where` names it in errors; the key's
 * content never appears in one.
 */
export async function openXWingKey(
  kid: string,
  jwk: XWingPrivateJwk,
  where: string,
): Promise<OpenedXWingKey> {
  const seed = typeof jwk.priv === 'string' ? Buffer.from(jwk.priv, 'base64url') : Buffer.alloc(0)
  if (jwk.kty !== 'AKP' || jwk.alg !== XWING || seed.length !== 32) {
    seed.fill(0)
    throw new KeyStoreError('ERR_KEYS_FILE_INVALID', `${where}: not an X-Wing key`)
  }
  let decapsulator: XWingDecapsulator
  try {
    decapsulator = await xwingDecapsulator(seed)
  } finally {
    seed.fill(0)
  }
  const pub = Buffer.from(decapsulator.publicKey).toString('base64url')
  if (pub !== jwk.pub) {
    throw new KeyStoreError('ERR_KEYS_KID_MISMATCH', `${where}: priv is not the key of pub`)
  }
  if ((await thumbprint({ kty: 'AKP', alg: XWING, pub })) !== kid) {
    throw new KeyStoreError('ERR_KEYS_KID_MISMATCH', `${where}: kid is not its thumbprint`)
  }
  return { pub, decapsulator }
}

/** The ring key of an opened X-Wing key, with its manifest facts. */
export function hybridRingKey(
  info: Omit<RingKeyInfo, 'crv' | 'publicJwk'>,
  opened: OpenedXWingKey,
): HybridRingKey {
  const publicJwk: XWingPublicJwk = {
    kty: 'AKP',
    alg: XWING,
    pub: opened.pub,
    kid: info.kid,
    use: 'enc',
  }
  if (info.hpkeKeyId !== undefined) publicJwk.hpke_key_id = info.hpkeKeyId
  const { decapsulator } = opened
  return Object.freeze({
    ...info,
    crv: XWING,
    publicJwk,
    store: 'in-process',
    decapsulate: (enc: Uint8Array) => decapsulator.decapsulate(enc),
  })
}
