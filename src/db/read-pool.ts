import { DatabaseError, isUnavailable } from './errors.js'
import type { Sql } from './sql.js'

/**
 * Where searches read: the hosts of DATABASE_READ_URL in the order listed (standbys first, say,
 * then the primary), one connection pool each. A search goes to the first host not known to be
 * down; when it fails because that host cannot be reached, the host is passed over for
 * `retryAfterMs` and the search runs once more on the next one, on a fresh connection. After that
 * pause the host is tried again, so a standby that comes back is used again.
 *
 * One pool per host, rather than postgres.js's own multi-host string, because a postgres.js
 * connection moves to the next host on every reconnect: with two hosts, half the connections
 * would drift to the second one while the first is healthy.
 */

export interface ReadHost {
  /** `host:port`, for logs and metrics. */
  name: string
  sql: Sql
}

export interface ReadPool {
  /**
   * Runs an idempotent read. A failure to reach the database is retried once, on the next
   * host (or, with one host, on a fresh connection to it); any other error is thrown as is.
   */
  read<T>(work: (sql: Sql) => Promise<T>): Promise<T>
  /** The hosts, in order of preference. */
  readonly hosts: readonly string[]
  close(): Promise<void>
}

export interface ReadPoolOptions {
  /** How long a host that could not be reached is passed over (default 2 s). */
  retryAfterMs?: number
  /** Called when a read moves off a host that could not be reached. */
  onHostDown?: (host: string, error: unknown) => void
  /**
   * Longest a read may wait on one host before it counts as unreachable there and runs on the
   * next (default: no limit). A connection that a proxy accepts and drops at once can leave a
   * query waiting until the host is back; it is not cancelled, but its host is passed over until
   * it settles, so a host that hangs holds at most one such read.
   */
  attemptTimeoutMs?: number
  /** End the hosts' pools on close (default true). */
  owned?: boolean
  now?: () => number
}

/** A read that failed because the host is gone, not because the query was slow or wrong. */
function worthRetry(error: unknown): boolean {
  // 57014 query_canceled: statement_timeout. Retrying a slow query elsewhere only doubles it.
  return isUnavailable(error) && (error as { code?: unknown }).code !== '57014'
}

export function readPool(hosts: ReadHost[], options: ReadPoolOptions = {}): ReadPool {
  if (hosts.length === 0) throw new RangeError('a read pool needs at least one host')
  const { retryAfterMs = 2000, onHostDown, owned = true, now = () => performance.now() } = options
  const { attemptTimeoutMs } = options
  const downUntil = new Map<ReadHost, number>()
  /** Hosts holding a read that outlived attemptTimeoutMs and has not settled yet. */
  const hanging = new Set<ReadHost>()

  /** The first host not passed over; when every host is, the one whose pause ends first. */
  function pick(): ReadHost {
    const t = now()
    const up = hosts.find((h) => (downUntil.get(h) ?? 0) <= t && !hanging.has(h))
    if (up) return up
    return hosts.reduce((a, b) => ((downUntil.get(a) ?? 0) <= (downUntil.get(b) ?? 0) ? a : b))
  }

  function attempt<T>(host: ReadHost, work: (sql: Sql) => Promise<T>): Promise<T> {
    if (attemptTimeoutMs === undefined) return work(host.sql)
    const unanswered = () =>
      new DatabaseError(
        'ERR_DB_UNAVAILABLE',
        `${host.name} did not answer within ${attemptTimeoutMs} ms`,
      )
    if (hanging.has(host)) return Promise.reject(unanswered())
    const running = work(host.sql)
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        hanging.add(host)
        running.then(
          () => hanging.delete(host),
          () => hanging.delete(host),
        )
        reject(unanswered())
      }, attemptTimeoutMs)
    })
    return Promise.race([running, deadline]).finally(() => clearTimeout(timer))
  }

  return {
    hosts: hosts.map((h) => h.name),
    async read<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
      const first = pick()
      try {
        return await attempt(first, work)
      } catch (error) {
        if (!worthRetry(error)) throw error
        downUntil.set(first, now() + retryAfterMs)
        onHostDown?.(first.name, error)
        const second = pick()
        try {
          const result = await attempt(second, work)
          return result
        } catch (again) {
          if (worthRetry(again)) downUntil.set(second, now() + retryAfterMs)
          throw again
        }
      }
    },
    async close() {
      if (owned) await Promise.all(hosts.map((h) => h.sql.end({ timeout: 5 })))
    },
  }
}
