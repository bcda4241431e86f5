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
  // PostgreSQL SQLSTATEs (Appendix A) that say "this server cannot serve you now", whatever the
  // query: the gateway answers 503 with Retry-After and an operator fixes or waits.
  '08000', // connection_exception
  '08001', // sqlclient_unable_to_establish_sqlconnection
  '08003', // connection_does_not_exist
  '08004', // sqlserver_rejected_establishment_of_sqlconnection
  '08006', // connection_failure
  '28000', // invalid_authorization_specification (pg_hba.conf refuses the role)
  '28P01', // invalid_password
  '3D000', // invalid_catalog_name: the database does not exist
  '53000', // insufficient_resources
  '53100', // disk_full
  '53200', // out_of_memory
  '53300', // too_many_connections
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '57014', // query_canceled: statement_timeout (DB_QUERY_TIMEOUT) ran out
  '57P04', // database_dropped
])

/** Whether an error means "the database cannot be reached now" (answer 503 and retry later). */
export function isUnavailable(error: unknown): boolean {
  if (error instanceof DatabaseError) return error.code === 'ERR_DB_UNAVAILABLE'
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && UNAVAILABLE_CODES.has(code)
}
