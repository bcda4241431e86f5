import { normalizeMbi } from '../identifiers/mbi.js'

export interface PayloadOptions {
  /** Seconds the token stays valid; when set the payload is `{"mbi","iat","exp"}`. */
  ttlSeconds?: number
  /** Clock for `iat`/`exp`, in milliseconds. */
  now?: () => number
}

/**
 * The plaintext of a token, the same for JWE and HPKE (src/crypto/claims.ts reads it): the
 * canonical MBI, or `{"mbi","iat","exp"}` when `ttlSeconds` is set. A malformed MBI or lifetime
 * fails here, before anything is encrypted; the message never holds the MBI.
 */
export function identifierPayload(mbi: string, options: PayloadOptions = {}): string {
  const canonical = normalizeMbi(mbi)
  if (!canonical) throw new TypeError('not a well-formed MBI')
  const { ttlSeconds } = options
  if (ttlSeconds === undefined) return canonical
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds <= 0) {
    throw new TypeError('ttlSeconds must be a positive whole number')
  }
  const iat = Math.floor((options.now?.() ?? Date.now()) / 1000)
  return JSON.stringify({ mbi: canonical, iat, exp: iat + ttlSeconds })
}
