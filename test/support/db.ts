import { randomBytes } from 'node:crypto'
import { startEmbeddedDatabase } from '../../src/db/embedded.js'
import { migrate } from '../../src/db/migrate.js'
import { createSql, type Sql } from '../../src/db/sql.js'

export interface TestDatabase {
  sql: Sql
  /** Where a second client (or a whole gateway) can reach the same tables. */
  url: string
  schema: string | undefined
  close(): Promise<void>
}

/** True when the suite runs against a real PostgreSQL server (DATABASE_URL set). */
export const realServer = Boolean(process.env.DATABASE_URL)

/**
 * A migrated, empty database for one test file: a fresh schema on the server named by
 * DATABASE_URL (so test files can share it), or an in-memory embedded database otherwise.
 * Either way the gateway reaches it over the PostgreSQL wire protocol with postgres.js.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const url = process.env.DATABASE_URL
  if (url) {
    const schema = `test_${randomBytes(6).toString('hex')}`
    const admin = createSql({ url, max: 1 })
    await admin`create schema ${admin(schema)}`
    await admin.end()
    const sql = createSql({ url, max: 4, searchPath: schema })
    await migrate(sql)
    return {
      sql,
      url,
      schema,
      async close() {
        await sql`drop schema ${sql(schema)} cascade`
        await sql.end()
      },
    }
  }
  const db = await startEmbeddedDatabase()
  const sql = createSql({ url: db.url, max: 1 })
  await migrate(sql)
  return {
    sql,
    url: db.url,
    schema: undefined,
    async close() {
      await sql.end()
      await db.close()
    },
  }
}
