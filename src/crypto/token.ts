import type { HybridKeyResolver, KeyResolver } from '../keys/ring/keyring.js'
import type { Sender } from './binding.js'
import type { IdentifierKind } from './claims.js'
import { TokenError } from './errors.js'
import { MAX_HYBRID_TOKEN_LENGTH } from './hpke-hybrid.js'
import { openHpke, type OpenedHpke } from './hpke-token.js'
import { openJwe, type OpenedJwe } from './jwe.js'

/**
 * Longest token accepted, checked before any parsing. A P-256 ECDH-ES+A256KW JWE carrying the
 * claims object is about 420 characters; the cap leaves room for apu/apv and nothing more.
 * HPKE tokens have their own caps: tighter for a DHKEM (MAX_HPKE_TOKEN_LENGTH), and longer for
 * X-Wing (MAX_HYBRID_TOKEN_LENGTH), whose enc alone is 1,120 bytes.
 */
export const MAX_TOKEN_LENGTH = 1024

export type OpenedToken<K extends IdentifierKind = 'mbi'> = OpenedJwe<K> | OpenedHpke<K>

/** Where openToken finds keys: a resolver, or anything that has one (a KeyRing). */
export type KeySource =
  KeyResolver | { readonly resolve: KeyResolver; readonly resolveHybrid?: HybridKeyResolver }

/**
 * The one entry point for every token format; the format is told by its shape, never guessed by
 * trial: five dot-separated parts is a JWE compact serialization, no dot at all is an HPKE token.
 * The caller resolves the key (`resolve(ref)`); the key computes (`RingKey.agree`). `sender`
 * is the connection's client certificate, for sender-bound tokens (src/crypto/binding.ts).
 */
export async function openToken<K extends IdentifierKind = 'mbi'>(
  token: string,
  keys: KeySource,
  now: Date,
  kind: K = 'mbi' as K,
  sender?: Sender,
): Promise<OpenedToken<K>> {
  const resolve = typeof keys === 'function' ? keys : keys.resolve
  const resolveHybrid = typeof keys === 'function' ? undefined : keys.resolveHybrid
  // The longest token of any format first; then the JWE's own cap.
  if (token.length > MAX_HYBRID_TOKEN_LENGTH) throw new TokenError('ERR_TOKEN_TOO_LONG')
  if (token.length === 0) throw new TokenError('ERR_TOKEN_MALFORMED')
  // `return await`: one microtask where returning the promise itself takes three.
  if (!token.includes('.')) return await openHpke(token, resolve, now, kind, sender, resolveHybrid)
  if (token.length > MAX_TOKEN_LENGTH) throw new TokenError('ERR_TOKEN_TOO_LONG')
  if (token.split('.').length === 5) return await openJwe(token, resolve, now, kind, sender)
  throw new TokenError('ERR_TOKEN_FORMAT_UNSUPPORTED')
}
