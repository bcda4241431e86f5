import { randomBytes } from 'node:crypto'
import { expandXWingKey, xwingPublicKey } from '../crypto/hpke/xwing.js'
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

/** What a gateway key computes with: an ECDH curve, or the hybrid KEM X-Wing (HPKE only). */
export const KEY_ALGORITHMS = ['P-256', 'X25519', XWING] as const
export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number]

export function isKeyAlgorithm(value: unknown): value is KeyAlgorithm {
  return typeof value === 'string' && (KEY_ALGORITHMS as readonly string[]).includes(value)
}

/** The private half of an X-Wing key, as the stores keep it (sealed like every other key). */
export interface XWingPrivateJwk {
  kty: 'AKP'
  alg: typeof XWING
  /** base64url of pk_M ‖ pk_X (1,216 bytes). */
  pub: string
  /** base64url of the 32-byte seed (draft-connolly-cfrg-xwing-kem §5.2): the private key. */
  priv: string
  kid: string
}

/** A private key as a store holds it. */
export type StoredJwk = PrivateJwk | XWingPrivateJwk

/** The algorithm of a stored key: its curve, or X-Wing. */
export function algorithmOf(jwk: StoredJwk): KeyAlgorithm | undefined {
  if (jwk.kty === 'AKP') return jwk.alg === XWING ? XWING : undefined
  return isCurve(jwk.crv) ? jwk.crv : undefined
}

/**
 * A new X-Wing key: a random 32-byte seed, and the public key computed from it
 * (draft-connolly-cfrg-xwing-kem §5.2); the kid is the RFC 7638 thumbprint of the AKP members.
 */
export async function generateXWingKey(): Promise<XWingPrivateJwk> {
  const seed = randomBytes(32)
  const pub = Buffer.from(xwingPublicKey(expandXWingKey(seed))).toString('base64url')
  const kid = await thumbprint({ kty: 'AKP', alg: XWING, pub })
  const priv = seed.toString('base64url')
  seed.fill(0)
  return { kty: 'AKP', alg: XWING, pub, priv, kid }
}

/** Whether parsed JSON holds a private key: `d` for a curve, `priv` for X-Wing. */
export function hasPrivateMember(jwk: unknown): jwk is StoredJwk {
  if (jwk === null || typeof jwk !== 'object') return false
  const j = jwk as { kty?: unknown; d?: unknown; priv?: unknown }
  return j.kty === 'AKP' ? typeof j.priv === 'string' : typeof j.d === 'string'
}

/** The public JWK of a stored key: only public members, whatever the algorithm. */
export function publicOfStored(jwk: StoredJwk): PublicJwk | XWingPublicJwk {
  if (jwk.kty !== 'AKP') return toPublicJwk(jwk)
  return { kty: 'AKP', alg: XWING, pub: jwk.pub, kid: jwk.kid, use: 'enc' }
}

/** A new key of any algorithm, as the stores keep it. */
export function generateStoredKey(alg: KeyAlgorithm): Promise<StoredJwk> {
  return alg === XWING ? generateXWingKey() : generateKey(alg)
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
