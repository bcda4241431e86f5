import { normalizeHicn, normalizeMbi } from './identifiers.js'

/** Which identifier a token carries: the gateway's `mbi-encrypted` or `hicn-encrypted` search. */
export type IdentifierKind = 'mbi' | 'hicn'

export interface PayloadOptions {
  /** Seconds the token stays valid; when set the payload is `{"mbi","iat","exp"}`. */
  ttlSeconds?: number
  /** Clock for `iat`/`exp`, in milliseconds. */
  now?: () => number
}

const NORMALIZE: Record<IdentifierKind, (input: string) => string | undefined> = {
  mbi: normalizeMbi,
  hicn: normalizeHicn,
}

/**
 * The plaintext of a token, the same for JWE and HPKE (docs/TOKENS.md): the canonical
 * identifier, or `{"mbi"|"hicn","iat","exp"}` when `ttlSeconds` is set. A malformed identifier
 * or lifetime fails here, before anything is encrypted; the message never holds the identifier.
 */
export function identifierPayload(
  identifier: string,
  options: PayloadOptions = {},
  kind: IdentifierKind = 'mbi',
): string {
  const canonical = NORMALIZE[kind]?.(identifier)
  if (!canonical) throw new TypeError(`not a well-formed ${kind.toUpperCase()}`)
  const { ttlSeconds } = options
  if (ttlSeconds === undefined) return canonical
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds <= 0) {
    throw new TypeError('ttlSeconds must be a positive whole number')
  }
  const iat = Math.floor((options.now?.() ?? Date.now()) / 1000)
  return JSON.stringify({ [kind]: canonical, iat, exp: iat + ttlSeconds })
}
