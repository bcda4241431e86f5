import type { DbConfig } from '../config/index.js'
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
  config: Pick<DbConfig, 'url' | 'schema' | 'dataDir' | 'poolSize' | 'connectTimeoutSeconds'>,
): Promise<Database> {
  if (config.url) {
    const sql = createSql({
      url: config.url,
      max: config.poolSize,
      connectTimeoutSeconds: config.connectTimeoutSeconds,
      ...(config.schema ? { searchPath: config.schema } : {}),
    })
    if (config.schema) await sql`create schema if not exists ${sql(config.schema)}`
    return { sql, embedded: false, close: () => sql.end({ timeout: 5 }) }
  }
  const db = await startEmbeddedDatabase(config.dataDir)
  // PGlite runs one session at a time: one connection keeps transactions apart.
  const sql = createSql({
    url: db.url,
    max: 1,
    connectTimeoutSeconds: config.connectTimeoutSeconds,
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
