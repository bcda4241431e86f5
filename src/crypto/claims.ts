import { normalizeMbi, type Mbi } from '../identifiers/mbi.js'
import { decodeUtf8 } from './base64url.js'
import { TokenError } from './errors.js'

/** Clock skew tolerated on `exp` and `iat`, in seconds (RFC 7519 §4.1.4 allows "some small leeway"). */
export const CLOCK_LEEWAY_SECONDS = 60

const CLAIM_NAMES = new Set(['mbi', 'iat', 'exp'])

export interface IdentifierClaims {
  mbi: Mbi
  iat?: number
  exp?: number
}

function isNumericDate(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0
}

/**
 * A decrypted payload is either the MBI itself, or `{"mbi": "...", "iat": n, "exp": n}`.
 * `exp`, when present, is enforced; an `iat` in the future beyond the leeway is refused.
 */
export function parseIdentifierPayload(plaintext: Uint8Array, now: Date): IdentifierClaims {
  const text = decodeUtf8(plaintext)
  if (!text.startsWith('{')) {
    const mbi = normalizeMbi(text)
    if (!mbi) throw new TokenError('ERR_TOKEN_IDENTIFIER_INVALID')
    return { mbi }
  }
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (cause) {
    throw new TokenError('ERR_TOKEN_CLAIMS_INVALID', { cause })
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new TokenError('ERR_TOKEN_CLAIMS_INVALID')
  }
  const claims = data as Record<string, unknown>
  if (!Object.keys(claims).every((k) => CLAIM_NAMES.has(k))) {
    throw new TokenError('ERR_TOKEN_CLAIMS_INVALID')
  }
  if (typeof claims.mbi !== 'string') throw new TokenError('ERR_TOKEN_CLAIMS_INVALID')
  const mbi = normalizeMbi(claims.mbi)
  if (!mbi) throw new TokenError('ERR_TOKEN_IDENTIFIER_INVALID')
  const result: IdentifierClaims = { mbi }
  const seconds = now.getTime() / 1000
  if (claims.iat !== undefined) {
    if (!isNumericDate(claims.iat)) throw new TokenError('ERR_TOKEN_CLAIMS_INVALID')
    if (claims.iat > seconds + CLOCK_LEEWAY_SECONDS) throw new TokenError('ERR_TOKEN_NOT_YET_VALID')
    result.iat = claims.iat
  }
  if (claims.exp !== undefined) {
    if (!isNumericDate(claims.exp)) throw new TokenError('ERR_TOKEN_CLAIMS_INVALID')
    if (claims.exp <= seconds - CLOCK_LEEWAY_SECONDS) throw new TokenError('ERR_TOKEN_EXPIRED')
    result.exp = claims.exp
  }
  return result
}
