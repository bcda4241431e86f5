import { SealedSearchError } from '../errors.js'

export type DatabaseErrorCode =
  | 'ERR_DB_UNAVAILABLE'
  | 'ERR_DB_MIGRATION_FAILED'
  | 'ERR_DB_MIGRATION_PENDING'
  | 'ERR_DB_EMBEDDED_IN_USE'

export class DatabaseError extends SealedSearchError<DatabaseErrorCode> {
  constructor(code: DatabaseErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
    this.name = 'DatabaseError'
  }
}

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
  '57014', // query_canceled: statement_timeout (DB_QUERY_TIMEOUT) ran out
])

/** Whether an error means "the database cannot be reached now" (answer 503 and retry later). */
export function isUnavailable(error: unknown): boolean {
  if (error instanceof DatabaseError) return error.code === 'ERR_DB_UNAVAILABLE'
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && UNAVAILABLE_CODES.has(code)
}
