/**
 * Fail closed on staleness (KEYS_FAIL_CLOSED_AFTER). A ring that could not be read from any host
 * may be missing a revocation made since: for a bounded time the ring in place keeps decrypting
 * (a restart or a failover of the database is not an outage), then it stops until a read succeeds.
 * A reading that is refused (a MAC that does not match, a rollback) is not stale: its revocations
 * are applied all the same (follow.ts), so the ring in place misses none of them.
 */

/** How the ring in place stands against its store. */
export type Freshness =
  /** The last attempt read the store. */
  | { state: 'current' }
  /** Read from no host since `since`, for no longer than the bound: still decrypting. */
  | { state: 'unreadable'; since: Date }
  /** Read from no host for longer than the bound: searches that decrypt answer 503. */
  | { state: 'fail-closed'; since: Date }

const CURRENT: Freshness = { state: 'current' }

/**
 * The freshness at `now` of a ring whose store has been read from no host since `unreadableSince`
 * (undefined: the last attempt read it). `boundMs` undefined never fails closed.
 */
export function freshnessAt(
  unreadableSince: Date | undefined,
  now: Date,
  boundMs: number | undefined,
): Freshness {
  if (!unreadableSince) return CURRENT
  const failed = boundMs !== undefined && now.getTime() - unreadableSince.getTime() > boundMs
  return { state: failed ? 'fail-closed' : 'unreadable', since: unreadableSince }
}

export interface FreshnessWatchOptions {
  boundMs: number | undefined
  clock: () => Date
  /** Called once each time decryption stops (fail-closed) and once when it resumes. */
  onChange: (failClosed: boolean, freshness: Freshness) => void
}

/**
 * Judges the freshness whenever asked (by a request, a poll) and reports each change between
 * decrypting and refusing once, whichever of them notices it first.
 */
export function freshnessWatch({ boundMs, clock, onChange }: FreshnessWatchOptions) {
  let failClosed = false
  return {
    check(unreadableSince: Date | undefined): Freshness {
      const freshness = freshnessAt(unreadableSince, clock(), boundMs)
      const now = freshness.state === 'fail-closed'
      if (now !== failClosed) {
        failClosed = now
        onChange(now, freshness)
      }
      return freshness
    },
  }
}
