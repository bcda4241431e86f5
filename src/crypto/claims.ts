import { normalizeHicn, type Hicn } from '../identifiers/hicn.js'
import { normalizeMbi, type Mbi } from '../identifiers/mbi.js'
import { decodeUtf8 } from './base64url.js'
import { TokenError } from './errors.js'

/** Clock skew tolerated on `exp` and `iat`, in seconds (RFC 7519 §4.1.4 allows "some small leeway"). */
export const CLOCK_LEEWAY_SECONDS = 60

/**
 * Which identifier a token must carry; the caller says so (from the identifier system searched),
 * the payload is never guessed. Each kind has its validator and its claim name.
 */
export type IdentifierKind = 'mbi' | 'hicn'

interface IdentifierValue {
  mbi: Mbi
  hicn: Hicn
}

const NORMALIZE: { [K in IdentifierKind]: (input: string) => IdentifierValue[K] | undefined } = {
  mbi: normalizeMbi,
  hicn: normalizeHicn,
}

/** The decrypted payload: `{ mbi }` (the default) or `{ hicn }`, with the optional times. */
export type IdentifierClaims<K extends IdentifierKind = 'mbi'> = {
  [P in K]: IdentifierValue[P]
} & {
  iat?: number
  exp?: number
}

function isNumericDate(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0
}

/**
 * A decrypted payload is either the identifier itself, or `{"mbi": "...", "iat": n, "exp": n}`
 * (`{"hicn": ...}` when `kind` is `hicn`). `exp`, when present, is enforced; an `iat` in the
 * future beyond the leeway is refused. Only the claim of the expected kind is allowed.
 */
export function parseIdentifierPayload<K extends IdentifierKind = 'mbi'>(
  plaintext: Uint8Array,
  now: Date,
  kind: K = 'mbi' as K,
): IdentifierClaims<K> {
  const normalize = NORMALIZE[kind] as (input: string) => IdentifierValue[K] | undefined
  const text = decodeUtf8(plaintext)
  if (!text.startsWith('{')) {
    const value = normalize(text)
    if (!value) throw new TokenError('ERR_TOKEN_IDENTIFIER_INVALID')
    return { [kind]: value } as IdentifierClaims<K>
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
  if (!Object.keys(claims).every((k) => k === kind || k === 'iat' || k === 'exp')) {
    throw new TokenError('ERR_TOKEN_CLAIMS_INVALID')
  }
  const raw = claims[kind]
  if (typeof raw !== 'string') throw new TokenError('ERR_TOKEN_CLAIMS_INVALID')
  const value = normalize(raw)
  if (!value) throw new TokenError('ERR_TOKEN_IDENTIFIER_INVALID')
  const result = { [kind]: value } as IdentifierClaims<K>
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
