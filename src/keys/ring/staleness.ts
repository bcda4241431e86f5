/**
 * Fail closed on staleness (KEYS_FAIL_CLOSED_AFTER). A ring whose store has been read from no host
 * for a while may be missing a revocation made since: for a bounded time the ring in place keeps
 * decrypting (a restart or a failover of the database is not an outage), then it stops until a
 * read succeeds. The time counts from the last read that succeeded, so a read that hangs counts
 * as much as one that fails. A reading that is refused (a MAC that does not match, a rollback) was
 * read: its revocations are applied all the same (follow.ts), so the ring misses none of them.
 */

/** Whether the ring in place may still decrypt. */
export type Freshness =
  /** Read no longer ago than the bound. */
  | { state: 'current' }
  /** Read from no host since `since`, longer ago than the bound: searches that decrypt answer 503. */
  | { state: 'fail-closed'; since: Date }

const CURRENT: Freshness = { state: 'current' }

/**
 * The freshness at `now` of a ring whose store was last read at `lastRead` (a reading, or a
 * version found unchanged). `boundMs` undefined never fails closed.
 */
export function freshnessAt(lastRead: Date, now: Date, boundMs: number | undefined): Freshness {
  if (boundMs === undefined || now.getTime() - lastRead.getTime() <= boundMs) return CURRENT
  return { state: 'fail-closed', since: lastRead }
}

export interface FreshnessWatchOptions {
  boundMs: number | undefined
  clock: () => Date
  /** Called once each time decryption stops (true) and once each time it resumes (false). */
  onChange: (failClosed: boolean, freshness: Freshness) => void
}

/**
 * Judges the freshness whenever asked (by a request, a timer) and reports each change between
 * decrypting and refusing once, whichever of them notices it first.
 */
export function freshnessWatch({ boundMs, clock, onChange }: FreshnessWatchOptions) {
  let failClosed = false
  return {
    check(lastRead: Date): Freshness {
      const freshness = freshnessAt(lastRead, clock(), boundMs)
      const now = freshness.state === 'fail-closed'
      if (now !== failClosed) {
        failClosed = now
        onChange(now, freshness)
      }
      return freshness
    },
  }
}
