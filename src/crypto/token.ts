import type { KeyRing } from '../keys/keyring.js'
import { TokenError } from './errors.js'
import { openJwe, type OpenedToken } from './jwe.js'

/**
 * Longest token accepted, checked before any parsing. A P-256 ECDH-ES+A256KW JWE carrying the
 * claims object is about 420 characters; the cap leaves room for apu/apv and nothing more.
 */
export const MAX_TOKEN_LENGTH = 1024

export type { OpenedToken }

/** The one entry point for every token format; the format is told by its shape, never guessed by trial. */
export async function openToken(token: string, ring: KeyRing, now: Date): Promise<OpenedToken> {
  if (token.length > MAX_TOKEN_LENGTH) throw new TokenError('ERR_TOKEN_TOO_LONG')
  if (token.length === 0) throw new TokenError('ERR_TOKEN_MALFORMED')
  if (token.split('.').length === 5) return openJwe(token, ring, now)
  throw new TokenError('ERR_TOKEN_FORMAT_UNSUPPORTED')
}
