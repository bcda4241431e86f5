import { encryptHpke } from './hpke.js'
import { encryptJwe, type EncryptOptions, type GatewayJwk } from './jwe.js'
import type { IdentifierKind } from './payload.js'

/** The two token formats the gateway opens (docs/TOKENS.md). */
export type TokenFormat = 'jwe' | 'hpke'

export interface EncryptMbiOptions extends EncryptOptions {
  /** `jwe` (default: JWE compact, every JOSE stack) or `hpke` (the short RFC 9180 token). */
  format?: TokenFormat
}

function encryptAs(
  kind: IdentifierKind,
  identifier: string,
  jwk: GatewayJwk,
  options: EncryptMbiOptions,
): Promise<string> {
  const { format = 'jwe', alg, enc, ...payload } = options
  if (format === 'jwe') return encryptJwe(identifier, jwk, options, kind)
  if (format !== 'hpke') return Promise.reject(new TypeError('format must be jwe or hpke'))
  if (alg !== undefined || enc !== undefined) {
    return Promise.reject(new TypeError('alg and enc apply to the jwe format only'))
  }
  return encryptHpke(identifier, jwk, payload, kind)
}

/**
 * Encrypts an MBI to a gateway key in either format. For `hpke` the key must publish an
 * `hpke_key_id` (chooseKey(jwks, crv, { format: 'hpke' }) picks one), and `alg`/`enc` do not apply.
 */
export function encryptMbi(
  mbi: string,
  jwk: GatewayJwk,
  options: EncryptMbiOptions = {},
): Promise<string> {
  return encryptAs('mbi', mbi, jwk, options)
}

/**
 * Encrypts a HICN (the identifier before the MBI) for the gateway's `hicn-encrypted` search,
 * in either format; search with `patientSearchUrl(base, token, 'hicn')`. The gateway answers
 * it only where the operator enabled HICN search.
 */
export function encryptHicn(
  hicn: string,
  jwk: GatewayJwk,
  options: EncryptMbiOptions = {},
): Promise<string> {
  return encryptAs('hicn', hicn, jwk, options)
}
