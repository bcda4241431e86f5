import { encryptMbiHpke } from './hpke.js'
import { encryptMbiJwe, type EncryptOptions, type GatewayJwk } from './jwe.js'

/** The two token formats the gateway opens (docs/TOKENS.md). */
export type TokenFormat = 'jwe' | 'hpke'

export interface EncryptMbiOptions extends EncryptOptions {
  /** `jwe` (default: JWE compact, every JOSE stack) or `hpke` (the short RFC 9180 token). */
  format?: TokenFormat
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
  const { format = 'jwe', alg, enc, ...payload } = options
  if (format === 'jwe') return encryptMbiJwe(mbi, jwk, options)
  if (format !== 'hpke') return Promise.reject(new TypeError('format must be jwe or hpke'))
  if (alg !== undefined || enc !== undefined) {
    return Promise.reject(new TypeError('alg and enc apply to the jwe format only'))
  }
  return encryptMbiHpke(mbi, jwk, payload)
}
