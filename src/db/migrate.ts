import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DatabaseError } from './errors.js'
import type { Sql } from './sql.js'

export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url))

export interface Migration {
  version: number
  name: string
  sql: string
}

/** Migrations are files named `NNN_name.sql`, applied in version order. */
export async function readMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f)).sort()
  return Promise.all(
    files.map(async (file) => ({
      version: Number(file.slice(0, 3)),
      name: file.slice(4, -4),
      sql: await readFile(join(dir, file), 'utf8'),
    })),
  )
}

// Any fixed number: serialises concurrent migrators (two gateways starting at once).
const MIGRATION_LOCK = 7_450_117

/**
 * Applies each migration not yet recorded in `schema_migrations`, each in its own transaction
 * with its record, so a migration is applied exactly once. Returns the versions applied now.
 */
export async function migrate(sql: Sql, migrations?: Migration[]): Promise<number[]> {
  const all = migrations ?? (await readMigrations())
  await sql`
    create table if not exists schema_migrations (
      version integer primary key,
      name text not null,
      applied_at timestamptz not null default now()
    )`
  const applied: number[] = []
  for (const m of all) {
    const done = await sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(${MIGRATION_LOCK})`
      const [row] = await tx`select 1 from schema_migrations where version = ${m.version}`
      if (row) return false
      try {
        await tx.unsafe(m.sql) // trusted: a file shipped in src/db/migrations, never input
      } catch (cause) {
        throw new DatabaseError(
          'ERR_DB_MIGRATION_FAILED',
          `migration ${m.version}_${m.name} failed`,
          { cause },
        )
      }
      await tx`insert into schema_migrations (version, name) values (${m.version}, ${m.name})`
      return true
    })
    if (done) applied.push(m.version)
  }
  return applied
}

/**
 * The versions of `migrations` not recorded in `schema_migrations`, read without writing: for a
 * hot standby, where nothing can be applied (all of them when the table itself is missing).
 */
export async function pendingMigrations(sql: Sql, migrations?: Migration[]): Promise<number[]> {
  const all = migrations ?? (await readMigrations())
  const [table] = await sql<{ found: boolean }[]>`
    select to_regclass('schema_migrations') is not null as found`
  if (!table?.found) return all.map((m) => m.version)
  const rows = await sql<{ version: number }[]>`select version from schema_migrations`
  const done = new Set(rows.map((r) => r.version))
  return all.filter((m) => !done.has(m.version)).map((m) => m.version)
}
