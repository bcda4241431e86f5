import { CompactEncrypt, importJWK } from 'jose'
import { normalizeMbi } from '../identifiers/mbi.js'

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
  const canonical = normalizeMbi(mbi)
  if (!canonical) throw new TypeError('not a well-formed MBI')
  if (!jwk.kid) throw new TypeError('the gateway key has no kid')
  const { alg = 'ECDH-ES', enc = 'A256GCM', ttlSeconds } = options
  let payload: string = canonical
  if (ttlSeconds !== undefined) {
    const iat = Math.floor((options.now?.() ?? Date.now()) / 1000)
    payload = JSON.stringify({ mbi: canonical, iat, exp: iat + ttlSeconds })
  }
  const key = await importJWK({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, alg)
  return new CompactEncrypt(new TextEncoder().encode(payload))
    .setProtectedHeader({ alg, enc, kid: jwk.kid })
    .encrypt(key)
}
