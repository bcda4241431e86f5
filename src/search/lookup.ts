import { DatabaseError, isUnavailable } from '../db/errors.js'
import type { Database } from './deps.js'
import { read } from './read.js'
import { SearchError } from './errors.js'

/**
 * Bounds a database call: past `ms` the search fails with ERR_DB_UNAVAILABLE instead of hanging,
 * and a database out of reach fails the same way (the caller answers "retry later").
 */
export async function lookup<T>(work: Promise<T>, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new DatabaseError('ERR_DB_UNAVAILABLE', `no answer within ${ms} ms`)),
      ms,
    )
  })
  try {
    return await Promise.race([work, timeout])
  } catch (error) {
    if (isUnavailable(error)) throw unavailable(error)
    throw error
  } finally {
    clearTimeout(timer)
  }
}

export function unavailable(cause: unknown): SearchError {
  return new SearchError(
    'ERR_DB_UNAVAILABLE',
    'transient',
    'the beneficiary database is unavailable; retry later',
    { cause },
  )
}

/**
 * Whether the database answers now (readiness). Any failure is "unavailable": whatever the
 * database says (refused, a failed login, no such database), the gateway is not ready, and
 * readiness answers 503, never 500.
 */
export async function databaseAnswers(sql: Database, ms?: number): Promise<void> {
  try {
    await lookup(
      read(sql, (s) => s`select 1`).then(() => undefined),
      ms,
    )
  } catch (error) {
    throw error instanceof SearchError ? error : unavailable(error)
  }
}
