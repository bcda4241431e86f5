import postgres from 'postgres'

export type Sql = postgres.Sql

export interface SqlOptions {
  url: string
  max?: number
  connectTimeoutSeconds?: number
  /** Schema searched first; tests use one schema each to share a server safely. */
  searchPath?: string
}

/** The one place a connection pool is made. Query functions take `sql` as an argument. */
export function createSql(options: SqlOptions): Sql {
  return postgres(options.url, {
    max: options.max ?? 10,
    connect_timeout: options.connectTimeoutSeconds ?? 5,
    idle_timeout: 30,
    onnotice: () => {},
    connection: {
      application_name: 'sealed-search',
      ...(options.searchPath ? { search_path: options.searchPath } : {}),
    },
  })
}
