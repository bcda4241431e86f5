import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose'
import { KeyStoreError } from './errors.js'

/** Curves a gateway key may use. P-256 is the default: every partner JOSE stack supports it. */
export const CURVES = ['P-256', 'X25519'] as const
export type Curve = (typeof CURVES)[number]

/**
 * X-Wing (ML-KEM-768 + X25519, HPKE KEM 0x647a): a KEM, not a curve, for HPKE tokens only. Its
 * public JWK is the AKP ("algorithm key pair") form of the JOSE HPKE and PQC drafts.
 */
export const XWING = 'X-Wing'

/** The public half of an X-Wing key: `pub` is base64url of pk_M || pk_X (1,216 bytes). */
export interface XWingPublicJwk {
  kty: 'AKP'
  alg: typeof XWING
  pub: string
  kid: string
  use: 'enc'
  /** As for PublicJwk: the number an HPKE token carries to name this key. */
  hpke_key_id?: number
}

export function isCurve(value: unknown): value is Curve {
  return typeof value === 'string' && (CURVES as readonly string[]).includes(value)
}

/** The public half of a gateway key, exactly the members a partner needs and nothing more. */
export interface PublicJwk {
  kty: 'EC' | 'OKP'
  crv: Curve
  x: string
  y?: string
  kid: string
  use: 'enc'
  /**
   * The key's HPKE key id (docs/TOKENS.md), an additional member as RFC 7517 §4 allows: the
   * number an HPKE token carries to name this key. Set by the key ring from the manifest.
   */
  hpke_key_id?: number
}

export interface PrivateJwk {
  kty: 'EC' | 'OKP'
  crv: Curve
  x: string
  y?: string
  d: string
  kid: string
}

/** Copies only public members, so a private member can never leak through this function. */
export function toPublicJwk(jwk: {
  kty?: unknown
  crv?: unknown
  x?: unknown
  y?: unknown
  kid?: unknown
}): PublicJwk {
  if (!isCurve(jwk.crv) || typeof jwk.x !== 'string' || typeof jwk.kid !== 'string') {
    throw new KeyStoreError('ERR_KEYS_FILE_INVALID', 'not an EC P-256 or OKP X25519 key')
  }
  const kty = jwk.crv === 'X25519' ? 'OKP' : 'EC'
  if (jwk.kty !== kty) throw new KeyStoreError('ERR_KEYS_FILE_INVALID', 'kty does not match crv')
  const out: PublicJwk = { kty, crv: jwk.crv, x: jwk.x, kid: jwk.kid, use: 'enc' }
  if (kty === 'EC') {
    if (typeof jwk.y !== 'string')
      throw new KeyStoreError('ERR_KEYS_FILE_INVALID', 'EC key has no y')
    out.y = jwk.y
  }
  return out
}

/** RFC 7638 JWK thumbprint (SHA-256, base64url): the key id of every gateway key. */
export function thumbprint(jwk: JWK): Promise<string> {
  return calculateJwkThumbprint(jwk, 'sha256')
}

export async function generateKey(crv: Curve): Promise<PrivateJwk> {
  const { privateKey } = await generateKeyPair('ECDH-ES', { crv, extractable: true })
  const jwk = await exportJWK(privateKey)
  const kid = await thumbprint(jwk)
  if (typeof jwk.x !== 'string' || typeof jwk.d !== 'string') {
    throw new KeyStoreError('ERR_KEYS_FILE_INVALID', 'key generation returned an incomplete key')
  }
  const key: PrivateJwk = { kty: crv === 'X25519' ? 'OKP' : 'EC', crv, x: jwk.x, d: jwk.d, kid }
  if (jwk.y !== undefined) key.y = jwk.y
  return key
}
