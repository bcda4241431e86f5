import type { Config } from '../config/index.js'
import { startEmbeddedDatabase } from './embedded.js'
import { createSql, type Sql } from './sql.js'

export interface Database {
  sql: Sql
  /** True when this process runs the embedded database itself. */
  embedded: boolean
  close(): Promise<void>
}

/**
 * Connects to `DATABASE_URL`, or starts the embedded database under `DATA_DIR` and connects to
 * it over loopback with the same client: one code path for both.
 */
export async function openDatabase(
  config: Pick<
    Config,
    'databaseUrl' | 'databaseSchema' | 'dataDir' | 'dbPoolSize' | 'dbConnectTimeoutSeconds'
  >,
): Promise<Database> {
  if (config.databaseUrl) {
    const sql = createSql({
      url: config.databaseUrl,
      max: config.dbPoolSize,
      connectTimeoutSeconds: config.dbConnectTimeoutSeconds,
      ...(config.databaseSchema ? { searchPath: config.databaseSchema } : {}),
    })
    if (config.databaseSchema) await sql`create schema if not exists ${sql(config.databaseSchema)}`
    return { sql, embedded: false, close: () => sql.end({ timeout: 5 }) }
  }
  const db = await startEmbeddedDatabase(config.dataDir)
  // PGlite runs one session at a time: one connection keeps transactions apart.
  const sql = createSql({
    url: db.url,
    max: 1,
    connectTimeoutSeconds: config.dbConnectTimeoutSeconds,
  })
  return {
    sql,
    embedded: true,
    async close() {
      await sql.end({ timeout: 5 })
      await db.close()
    },
  }
}
