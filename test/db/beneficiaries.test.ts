import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { findByMbi } from '../../src/db/beneficiaries.js'
import { migrate, readMigrations } from '../../src/db/migrate.js'
import {
  AMBIGUOUS_BENE_IDS,
  AMBIGUOUS_MBI,
  seed,
  seededBeneId,
  seededHistoricMbi,
  seededMbi,
} from '../../src/db/seed.js'
import type { Mbi } from '../../src/identifiers/mbi.js'
import { syntheticMbi } from '../../src/identifiers/synthetic.js'
import { createTestDatabase, realServer, type TestDatabase } from '../support/db.js'

let db: TestDatabase
const COUNT = 300

beforeAll(async () => {
  db = await createTestDatabase()
  await seed(db.sql, { count: COUNT, batchSize: 128 })
})
afterAll(() => db?.close())

describe(`the database (${realServer ? 'PostgreSQL server' : 'embedded'})`, () => {
  it('records each migration once and applies nothing twice', async () => {
    const files = await readMigrations()
    const rows = await db.sql<
      { version: number }[]
    >`select version from schema_migrations order by version`
    expect(rows.map((r) => r.version)).toEqual(files.map((f) => f.version))
    expect(await migrate(db.sql)).toEqual([])
    const again = await db.sql`select count(*)::int as n from schema_migrations`
    expect(again[0]!.n).toBe(files.length)
  })

  it('has btree indexes on both mbi_num columns and no hash columns', async () => {
    const idx = await db.sql<{ indexdef: string }[]>`
      select indexdef from pg_indexes
      where schemaname = current_schema() and indexdef like '%(mbi_num)%'`
    expect(idx.map((i) => i.indexdef).join('\n')).toMatch(/beneficiaries USING btree \(mbi_num\)/)
    expect(idx.map((i) => i.indexdef).join('\n')).toMatch(
      /beneficiaries_history USING btree \(mbi_num\)/,
    )
    // The core tables only: the legacy hashes live apart, in legacy_mbi_hash (migration 002),
    // and hicn_unhashed is a plaintext HICN, not a hash.
    const cols = await db.sql`
      select column_name from information_schema.columns
      where table_schema = current_schema()
        and table_name in ('beneficiaries', 'beneficiaries_history')
        and column_name like '%hash%' and column_name <> 'hicn_unhashed'`
    expect(cols).toHaveLength(0)
  })

  it('seeds the requested count plus the ambiguous pair, with negative bene_ids', async () => {
    const [row] =
      await db.sql`select count(*)::int as n, max(bene_id)::text as top from beneficiaries`
    expect(row!.n).toBe(COUNT + 2)
    expect(BigInt(row!.top)).toBeLessThan(0n)
  })

  it('seeding again keeps the rows it finds', async () => {
    await seed(db.sql, { count: 10 })
    const [row] = await db.sql`select count(*)::int as n from beneficiaries`
    expect(row!.n).toBe(COUNT + 2)
  })

  it('resumes a load stopped part-way, filling the batches that are missing', async () => {
    // As if the second and third of four batches had never committed.
    await db.sql`delete from beneficiaries_history
      where bene_id between ${seededBeneId(299)}::bigint and ${seededBeneId(100)}::bigint`
    await db.sql`delete from beneficiaries
      where bene_id between ${seededBeneId(299)}::bigint and ${seededBeneId(100)}::bigint`
    await seed(db.sql, { count: COUNT, batchSize: 100 })
    const [row] = await db.sql`
      select count(*)::int as n from beneficiaries`
    expect(row!.n).toBe(COUNT + 2)
    const [hist] = await db.sql`select count(*)::int as n from beneficiaries_history`
    expect(hist!.n).toBe(COUNT / 5 + 1)
    const match = await findByMbi(db.sql, seededMbi(250))
    expect(match.kind === 'one' && match.beneficiary.historicMbis).toEqual([
      { mbi: seededHistoricMbi(250), start: '2015-04-01', end: '2019-12-31' },
    ])
  })

  it('finds no one for an MBI nobody has', async () => {
    expect(await findByMbi(db.sql, syntheticMbi(999_999_999))).toEqual({ kind: 'none' })
  })

  it('finds a beneficiary by current MBI, listing the earlier MBI as history', async () => {
    const match = await findByMbi(db.sql, seededMbi(5))
    expect(match.kind).toBe('one')
    if (match.kind !== 'one') return
    expect(match.beneficiary.beneId).toBe(seededBeneId(5))
    expect(match.beneficiary.mbi).toBe(seededMbi(5))
    expect(match.beneficiary.historicMbis).toEqual([
      { mbi: seededHistoricMbi(5), start: '2015-04-01', end: '2019-12-31' },
    ])
  })

  it('finds a beneficiary by a historical MBI', async () => {
    const match = await findByMbi(db.sql, seededHistoricMbi(10)!)
    expect(match.kind === 'one' && match.beneficiary.beneId).toBe(seededBeneId(10))
  })

  it('never picks one of two beneficiaries that share an MBI', async () => {
    expect(await findByMbi(db.sql, AMBIGUOUS_MBI)).toEqual({ kind: 'ambiguous', count: 2 })
    const other = await findByMbi(db.sql, syntheticMbi(2_000_000_001))
    expect(other.kind === 'one' && other.beneficiary.beneId).toBe(AMBIGUOUS_BENE_IDS[1])
  })

  it('matches the MBI exactly: a neighbour one character away is not found', async () => {
    const mbi = seededMbi(7)
    const near = (mbi.slice(0, 10) + (mbi[10] === '9' ? '8' : '9')) as Mbi
    const hit = await findByMbi(db.sql, near)
    if (hit.kind === 'one') expect(hit.beneficiary.mbi).toBe(near)
    const exact = await findByMbi(db.sql, mbi)
    expect(exact.kind === 'one' && exact.beneficiary.beneId).toBe(seededBeneId(7))
  })
})
