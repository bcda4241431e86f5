import type { Context } from 'hono'
import type { IdentifierKind } from '../crypto/claims.js'
import { enforceReplayWindow, NO_REPLAY_WINDOW, type ReplayPolicy } from '../crypto/replay.js'
import { openToken, type OpenedToken } from '../crypto/token.js'
import { DatabaseError } from '../db/errors.js'
import type { KeyRingSource } from '../keys/keyring.js'
import type { Audit } from '../log/audit.js'
import type { Metrics } from '../metrics/index.js'
import type { AppEnv } from './env.js'

/** What every search path shares: keys, clock, metrics, audit, the replay window, DB timeout. */
export interface SearchDeps {
  keys: KeyRingSource
  clock: () => Date
  metrics: Metrics
  audit: Audit
  tokenPolicy?: ReplayPolicy
  /** Longest a lookup may take before the search answers 503. */
  dbQueryTimeoutMs?: number
}

/** Marks the request as a search (it gets an audit record) and returns its facts. */
export function beginSearch(c: Context<AppEnv>) {
  const search = c.get('search')
  search.audited = true
  return search
}

/**
 * Opens an identifier token for a search: one ring for the whole request (a reload in flight
 * cannot split a decision), the replay window, metrics, and the facts the logs need. `kind` is
 * the identifier the token must hold (an MBI unless the search names the HICN system).
 */
export async function openSearchToken<K extends IdentifierKind = 'mbi'>(
  c: Context<AppEnv>,
  token: string,
  deps: SearchDeps,
  kind: K = 'mbi' as K,
): Promise<OpenedToken<K>> {
  const search = beginSearch(c)
  const ring = deps.keys.current()
  const now = deps.clock()
  const opened = await openToken(token, ring, now, kind)
  search.format = opened.format
  search.kid = opened.kid
  deps.metrics.keyUsed(opened.kid, opened.format, now)
  const { mbi } = opened as Partial<OpenedToken<'mbi'>>
  const { hicn } = opened as Partial<OpenedToken<'hicn'>>
  if (mbi) search.fingerprint = deps.audit.fingerprint(mbi)
  else if (hicn) search.fingerprint = deps.audit.fingerprint(hicn, 'hicn')
  enforceReplayWindow(opened, deps.tokenPolicy ?? NO_REPLAY_WINDOW, now)
  return opened
}

/** Records what a search returned, for the access log (a count) and the audit trail (the ids). */
export function searchResults(c: Context<AppEnv>, beneIds: string[]): void {
  const search = c.get('search')
  search.results = beneIds.length
  search.beneIds = beneIds
  search.outcome = beneIds.length ? 'match' : 'no_match'
}

/** Bounds a database call: past `ms` the search answers 503 instead of hanging. */
export async function withDbTimeout<T>(work: Promise<T>, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new DatabaseError('ERR_DB_UNAVAILABLE', `no answer within ${ms} ms`)),
      ms,
    )
  })
  try {
    return await Promise.race([work, timeout])
  } finally {
    clearTimeout(timer)
  }
}
