import type { KeyRing } from '../keys/keyring.js'
import type { IdentifierKind } from './claims.js'
import { TokenError } from './errors.js'
import { openHpke, type OpenedHpke } from './hpke-token.js'
import { openJwe, type OpenedJwe } from './jwe.js'

/**
 * Longest token accepted, checked before any parsing. A P-256 ECDH-ES+A256KW JWE carrying the
 * claims object is about 420 characters; the cap leaves room for apu/apv and nothing more.
 * HPKE tokens have their own, tighter cap (MAX_HPKE_TOKEN_LENGTH).
 */
export const MAX_TOKEN_LENGTH = 1024

export type OpenedToken<K extends IdentifierKind = 'mbi'> = OpenedJwe<K> | OpenedHpke<K>

/**
 * The one entry point for every token format; the format is told by its shape, never guessed by
 * trial: five dot-separated parts is a JWE compact serialization, no dot at all is an HPKE token.
 */
export async function openToken<K extends IdentifierKind = 'mbi'>(
  token: string,
  ring: KeyRing,
  now: Date,
  kind: K = 'mbi' as K,
): Promise<OpenedToken<K>> {
  if (token.length > MAX_TOKEN_LENGTH) throw new TokenError('ERR_TOKEN_TOO_LONG')
  if (token.length === 0) throw new TokenError('ERR_TOKEN_MALFORMED')
  if (!token.includes('.')) return openHpke(token, ring, now, kind)
  if (token.split('.').length === 5) return openJwe(token, ring, now, kind)
  throw new TokenError('ERR_TOKEN_FORMAT_UNSUPPORTED')
}
