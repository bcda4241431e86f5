import { TokenError } from './errors.js'

export interface ReplayPolicy {
  /** Refuse tokens without `exp`, so a URL scraped from a log stops working. */
  requireExp: boolean
  /** Longest accepted `exp - iat` (or `exp - now` without `iat`), in seconds. */
  maxLifetimeSeconds: number
}

export const NO_REPLAY_WINDOW: ReplayPolicy = { requireExp: false, maxLifetimeSeconds: Infinity }

/**
 * The replay window, applied after a token has been opened (its `exp` is already enforced there):
 * with `requireExp`, a token must expire, and no later than `maxLifetimeSeconds` after it was
 * issued. A URL copied out of a log then stops working within minutes.
 */
export function enforceReplayWindow(
  claims: { iat?: number; exp?: number },
  policy: ReplayPolicy,
  now: Date,
): void {
  if (!policy.requireExp) return
  if (claims.exp === undefined) throw new TokenError('ERR_TOKEN_EXP_REQUIRED')
  const issued = claims.iat ?? now.getTime() / 1000
  if (claims.exp - issued > policy.maxLifetimeSeconds) {
    throw new TokenError('ERR_TOKEN_LIFETIME_TOO_LONG')
  }
}
