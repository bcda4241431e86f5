import type { Context } from 'hono'
import type { SearchResult } from '../search/index.js'
import type { AppEnv } from './env.js'

/** Marks the request as a search: it gets an audit record, even if its parameters are refused. */
export function markSearch(c: Context<AppEnv>): void {
  c.get('search').audited = true
}

/**
 * Writes what a search learned into the request's facts (the access log and the audit trail
 * read them), once, and a deprecated path's headers, which errors carry too: RFC 9745 §2
 * `Deprecation` is a Structured Field Date, `@<unix seconds>` (`@0` when no date is configured:
 * deprecated, date unspecified); RFC 8594 §3 `Sunset` is an HTTP-date. Then throws the search's
 * error, if it failed, for the root error handler to render.
 */
export function settle<T>(
  c: Context<AppEnv>,
  result: SearchResult<T>,
): asserts result is Extract<SearchResult<T>, { ok: true }> {
  Object.assign(c.get('search'), result.facts, { audited: true })
  const notice = result.deprecation
  if (notice) {
    c.header('Deprecation', `@${Math.floor((notice.deprecation?.getTime() ?? 0) / 1000)}`)
    c.header('Sunset', notice.sunset.toUTCString())
  }
  if (!result.ok) throw result.error
}
