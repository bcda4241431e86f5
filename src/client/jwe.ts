import { CompactEncrypt, importJWK } from 'jose'
import { identifierPayload } from './payload.js'

export type JweAlg = 'ECDH-ES' | 'ECDH-ES+A256KW'
export type JweEnc = 'A256GCM' | 'A128GCM'

/** A gateway public key as published in its JWKS. */
export interface GatewayJwk {
  kty: string
  crv?: string
  x?: string
  y?: string
  kid?: string
  use?: string
  /** The HPKE key id the gateway assigned to this key (docs/TOKENS.md); needed for HPKE only. */
  hpke_key_id?: number
}

export interface EncryptOptions {
  alg?: JweAlg
  enc?: JweEnc
  /** Seconds the token stays valid; when set the payload is `{"mbi","iat","exp"}`. */
  ttlSeconds?: number
  /** Clock for `iat`/`exp`, in milliseconds. */
  now?: () => number
}

/**
 * Encrypts an MBI to a gateway key as a JWE compact token (RFC 7516), with the key's `kid` in
 * the protected header. The MBI is validated and normalised first: a typo fails here, not later.
 */
export async function encryptMbiJwe(
  mbi: string,
  jwk: GatewayJwk,
  options: EncryptOptions = {},
): Promise<string> {
  // Validates the MBI and ttlSeconds (a positive whole number) before anything is encrypted.
  const payload = identifierPayload(mbi, options)
  if (!jwk.kid) throw new TypeError('the gateway key has no kid')
  const { alg = 'ECDH-ES', enc = 'A256GCM' } = options
  const key = await importJWK({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, alg)
  return new CompactEncrypt(new TextEncoder().encode(payload))
    .setProtectedHeader({ alg, enc, kid: jwk.kid })
    .encrypt(key)
}
