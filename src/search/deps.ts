import type { ReplayPolicy } from '../crypto/replay.js'
import type { ReadPool } from '../db/read-pool.js'
import type { Sql } from '../db/sql.js'
import type { KeyRingSource } from '../keys/ring/keyring.js'
import type { Audit } from '../log/audit.js'
import type { Metrics } from '../metrics/index.js'
import type { Tracer } from '../tracing/span.js'
import type { SearchFeatures } from './features.js'

/**
 * The database a search reads: a postgres.js pool (or a transaction of one), or the read pool of
 * DATABASE_READ_URL's hosts, which runs each read on the first host that answers.
 */
export type Database = Sql | ReadPool

/** What a search needs, all passed in: no module state, no reaching into a request. */
export interface SearchDeps {
  sql: Database
  /** The key ring; one snapshot is taken per search, so a reload cannot split a decision. */
  keys: KeyRingSource
  clock: () => Date
  metrics: Pick<Metrics, 'keyUsed' | 'legacyHashRequests' | 'tokenBinding' | 'tokenFailures'>
  /** Only the fingerprinter: the audit record itself is written by the caller, once. */
  audit: Pick<Audit, 'fingerprint'>
  features: SearchFeatures
  /** Replay window and sender-binding requirement for tokens; off when absent. */
  tokenPolicy?:
    | (ReplayPolicy & {
        requireSenderBinding?: boolean | undefined
        requirePq?: boolean | undefined
      })
    | undefined
  /** Longest a lookup may take before the search fails with ERR_DB_UNAVAILABLE (default 10 s). */
  dbQueryTimeoutMs?: number | undefined
  /** OpenTelemetry: a span for opening the token; none when absent. */
  tracer?: Tracer | undefined
}

/**
 * What a search learned, for the audit trail and the access log: how the identifier came
 * (format), which key opened it, its keyed fingerprint, and what was returned. Never the
 * identifier itself.
 */
export interface SearchFacts {
  format?: string
  kid?: string
  fingerprint?: string
  /** The bene_ids returned (the page shown). */
  beneIds?: string[]
  results?: number
  /** Whether anything matched, even when the page shown is empty (`_count=0`). */
  outcome?: 'match' | 'no_match'
}

/** A deprecated search path's dates: RFC 9745 `Deprecation` and RFC 8594 `Sunset`. */
export interface DeprecationNotice {
  /** Since when the path is deprecated; undefined when no date is configured. */
  deprecation: Date | undefined
  sunset: Date
}

/**
 * The end of a search, success or failure, with what was learned on the way: the caller writes
 * the facts once, and a deprecation notice applies to errors as well as results.
 */
export type SearchResult<T> = (({ ok: true } & T) | { ok: false; error: unknown }) & {
  facts: SearchFacts
  deprecation?: DeprecationNotice
}
