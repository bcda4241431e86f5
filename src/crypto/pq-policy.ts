import type { Sender } from './binding.js'
import { TokenError } from './errors.js'
import { KEM_XWING } from './hpke/suite.js'
import type { OpenedToken } from './token.js'
import type { IdentifierKind } from './claims.js'

/** The KEM a token was opened with, for metrics and the policy: the key's algorithm. */
export type TokenKem = 'X-Wing' | 'X25519' | 'P-256'

const HPKE_KEMS: Record<number, TokenKem> = {
  [KEM_XWING]: 'X-Wing',
  0x0020: 'X25519',
  0x0010: 'P-256',
}

/** The KEM of an opened token: the HPKE kem_id, or the JWE key's curve (ECDH-ES). */
export function kemOf<K extends IdentifierKind>(
  opened: OpenedToken<K>,
  jweCurve: (kid: string) => 'P-256' | 'X25519' | undefined,
): TokenKem | undefined {
  return opened.format === 'hpke' ? HPKE_KEMS[opened.kemId] : jweCurve(opened.kid)
}

/**
 * The post-quantum policy, after a token has opened: with `requireAll` (TOKEN_REQUIRE_PQ) or for
 * a partner marked `=pq`, a token whose KEM is not hybrid (JWE ECDH-ES, HPKE DHKEM) is refused.
 */
export function enforcePq(
  kem: TokenKem | undefined,
  sender: Sender | undefined,
  requireAll: boolean,
) {
  if (kem !== 'X-Wing' && (requireAll || sender?.mustPq)) {
    throw new TokenError('ERR_TOKEN_PQ_REQUIRED')
  }
}
