import { base64url, CompactEncrypt, importJWK } from 'jose'
import { certificateThumbprint, type BindingOptions } from './binding.js'
import { identifierPayload, type IdentifierKind } from './payload.js'

export type JweAlg = 'ECDH-ES' | 'ECDH-ES+A256KW'
export type JweEnc = 'A256GCM' | 'A128GCM'

/** A gateway public key as published in its JWKS. */
export interface GatewayJwk {
  kty: string
  crv?: string
  x?: string
  y?: string
  /** An AKP key's algorithm (`X-Wing`) and public key (draft-ietf-jose-hpke-encrypt). */
  alg?: string
  pub?: string
  kid?: string
  use?: string
  /** The HPKE key id the gateway assigned to this key (docs/TOKENS.md); needed for HPKE only. */
  hpke_key_id?: number
}

export interface EncryptOptions extends BindingOptions {
  alg?: JweAlg
  enc?: JweEnc
  /** Seconds the token stays valid; when set the payload is `{"mbi","iat","exp"}`. */
  ttlSeconds?: number
  /** Clock for `iat`/`exp`, in milliseconds. */
  now?: () => number
}

const ALGS: readonly string[] = ['ECDH-ES', 'ECDH-ES+A256KW']
const ENCS: readonly string[] = ['A256GCM', 'A128GCM']

/**
 * The protected header: alg, enc and kid (docs/PARTNERS.md §3); jose adds the epk. With
 * `bindCertificate` also `x5t#S256` (RFC 8705 §3.1), which the AAD covers (docs/TOKENS.md).
 */
function protectedHeader(jwk: GatewayJwk, options: EncryptOptions) {
  const { alg = 'ECDH-ES', enc = 'A256GCM' } = options
  if (!ALGS.includes(alg)) throw new TypeError('alg must be ECDH-ES or ECDH-ES+A256KW')
  if (!ENCS.includes(enc)) throw new TypeError('enc must be A256GCM or A128GCM')
  if (!jwk.kid) throw new TypeError('the gateway key has no kid')
  const { bindCertificate } = options
  if (bindCertificate === undefined) return { alg, enc, kid: jwk.kid }
  return {
    alg,
    enc,
    kid: jwk.kid,
    'x5t#S256': base64url.encode(certificateThumbprint(bindCertificate)),
  }
}

/** Encrypts an identifier payload to a gateway key as a JWE compact token (RFC 7516). */
export async function encryptJwe(
  identifier: string,
  jwk: GatewayJwk,
  options: EncryptOptions = {},
  kind: IdentifierKind = 'mbi',
): Promise<string> {
  // Validates the identifier and ttlSeconds (a positive whole number) before anything else.
  const payload = identifierPayload(identifier, options, kind)
  const header = protectedHeader(jwk, options)
  const key = await importJWK({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, header.alg)
  return new CompactEncrypt(new TextEncoder().encode(payload))
    .setProtectedHeader(header)
    .encrypt(key)
}

/**
 * Encrypts an MBI to a gateway key as a JWE compact token (RFC 7516), with the key's `kid` in
 * the protected header. The MBI is validated and normalised first: a typo fails here, not later.
 * With `bindCertificate`, the header carries its `x5t#S256` (RFC 8705 §3.1), covered by the AAD.
 */
export function encryptMbiJwe(
  mbi: string,
  jwk: GatewayJwk,
  options: EncryptOptions = {},
): Promise<string> {
  return encryptJwe(mbi, jwk, options, 'mbi')
}
