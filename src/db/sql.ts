import postgres from 'postgres'

export type Sql = postgres.Sql

export interface SqlOptions {
  url: string
  max?: number
  connectTimeoutSeconds?: number
  /** Seconds an unused connection stays open (default 30). */
  idleTimeoutSeconds?: number
  /** Seconds a connection lives at most, used or not (default: postgres.js's 30 to 60 minutes). */
  maxLifetimeSeconds?: number
  /**
   * PostgreSQL's `statement_timeout` for every query on these connections, in milliseconds: the
   * server cancels a query that runs longer (SQLSTATE 57014) and the connection is free again.
   */
  statementTimeoutMs?: number
  /** Schema searched first; tests use one schema each to share a server safely. */
  searchPath?: string
  /**
   * Longest wait in seconds before reconnecting after failed attempts (postgres.js backs off up
   * to 20 s by default); the key store's small pool uses a short one, to catch up soon after an
   * outage.
   */
  maxBackoffSeconds?: number
}

/** The one place a connection pool is made. Query functions take `sql` as an argument. */
export function createSql(options: SqlOptions): Sql {
  return postgres(options.url, {
    max: options.max ?? 10,
    connect_timeout: options.connectTimeoutSeconds ?? 5,
    idle_timeout: options.idleTimeoutSeconds ?? 30,
    ...(options.maxLifetimeSeconds ? { max_lifetime: options.maxLifetimeSeconds } : {}),
    ...(options.maxBackoffSeconds !== undefined
      ? { backoff: (attempt: number) => Math.min(0.05 * 2 ** attempt, options.maxBackoffSeconds!) }
      : {}),
    onnotice: () => {},
    connection: {
      application_name: 'sealed-search',
      ...(options.searchPath ? { search_path: options.searchPath } : {}),
      ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
    },
  })
}
