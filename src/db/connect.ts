import type { DbConfig } from '../config/index.js'
import { startEmbeddedDatabase } from './embedded.js'
import { isUnavailable } from './errors.js'
import { describeHosts, splitHosts } from './hosts.js'
import { readPool, type ReadHost, type ReadPool } from './read-pool.js'
import { createSql, type Sql } from './sql.js'

export interface Database {
  /** The primary (`DATABASE_URL`): migrations and anything that writes. */
  sql: Sql
  /**
   * Where searches and other reads go: the hosts of `DATABASE_READ_URL` in order, or the primary
   * when it is unset. Every query on it runs under `statement_timeout = DB_QUERY_TIMEOUT`.
   */
  reads: ReadPool
  /**
   * The hosts of `DATABASE_READ_URL` (empty without one), whose connections `reads` uses: the
   * key ring is read there when the primary cannot be.
   */
  readHosts: readonly ReadHost[]
  /** True when this process runs the embedded database itself. */
  embedded: boolean
  close(): Promise<void>
}

export type DatabaseSettings = Pick<
  DbConfig,
  'url' | 'schema' | 'dataDir' | 'poolSize' | 'connectTimeoutSeconds'
> &
  Partial<
    Pick<DbConfig, 'readUrl' | 'queryTimeoutSeconds' | 'idleTimeoutSeconds' | 'maxLifetimeSeconds'>
  >

/**
 * Connects to `DATABASE_URL` (and `DATABASE_READ_URL`), or starts the embedded database under
 * `DATA_DIR` and connects to it over loopback with the same client: one code path for both.
 * Connections are opened on first use, so a host that is down now fails the first query, not this.
 */
export interface OpenOptions {
  /** Called when a read moves off a read host that could not be reached (for metrics). */
  onHostDown?: (host: string) => void
}

export async function openDatabase(
  config: DatabaseSettings,
  options: OpenOptions = {},
): Promise<Database> {
  if (config.url) {
    const pool = {
      max: config.poolSize,
      connectTimeoutSeconds: config.connectTimeoutSeconds,
      ...(config.idleTimeoutSeconds ? { idleTimeoutSeconds: config.idleTimeoutSeconds } : {}),
      ...(config.maxLifetimeSeconds ? { maxLifetimeSeconds: config.maxLifetimeSeconds } : {}),
      ...(config.schema ? { searchPath: config.schema } : {}),
    }
    const sql = createSql({ url: config.url, ...pool })
    if (config.schema) {
      try {
        await sql`create schema if not exists ${sql(config.schema)}`
      } catch (error) {
        // With the primary out of reach, searches can still run on the read URL.
        if (!(config.readUrl && isUnavailable(error))) {
          await sql.end({ timeout: 1 })
          throw error
        }
      }
    }
    // With a read URL, each of its hosts gets a pool; without one, the primary's whole string
    // does (postgres.js then handles its hosts and target_session_attrs itself).
    const hosts = config.readUrl
      ? splitHosts(config.readUrl, ['target_session_attrs'])
      : [{ host: describeHosts(config.url), url: config.url }]
    const readHosts = hosts.map((h) => ({
      name: h.host,
      sql: createSql({
        url: h.url,
        ...pool,
        ...(config.queryTimeoutSeconds
          ? { statementTimeoutMs: config.queryTimeoutSeconds * 1000 }
          : {}),
      }),
    }))
    const reads = readPool(
      readHosts,
      options.onHostDown ? { onHostDown: (host) => options.onHostDown?.(host) } : {},
    )
    return {
      sql,
      reads,
      readHosts: config.readUrl ? readHosts : [],
      embedded: false,
      async close() {
        await Promise.all([sql.end({ timeout: 5 }), reads.close()])
      },
    }
  }
  const db = await startEmbeddedDatabase(config.dataDir)
  // PGlite runs one session at a time: one connection keeps transactions apart, and reads share it.
  const sql = createSql({
    url: db.url,
    max: 1,
    connectTimeoutSeconds: config.connectTimeoutSeconds,
  })
  return {
    sql,
    reads: readPool([{ name: 'embedded', sql }], { owned: false }),
    readHosts: [],
    embedded: true,
    async close() {
      await sql.end({ timeout: 5 })
      await db.close()
    },
  }
}
