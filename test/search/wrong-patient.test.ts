/**
 * The wrong-patient guard (the lesson of an identifier shortened to 96 bits that served one
 * beneficiary's data to another): over a database full of near-identical MBIs, current and
 * historical, and ambiguous ones, a search returns exactly the beneficiary whose current or
 * historical MBI equals the decrypted one, or no one, or the ambiguity error. Never another.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encryptMbiJwe } from '@sealed-search/client'
import { createApp } from '../../src/http/app.js'
import { isMbi } from '../../src/identifiers/mbi.js'
import { syntheticMbi } from '../../src/identifiers/synthetic.js'
import { staticKeyRing } from '../../src/keys/ring/keyring.js'
import type { RingKey } from '../../src/keys/ring/ring-key.js'
import { capturingLogger, searchPath } from '../support/app.js'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { twoKeyRing } from '../support/keys.js'

const DIGITS = '0123456789'
const LETTERS = 'ACDEFGHJKMNPQRTUVWXY'
const CLASS = [
  '123456789',
  'S',
  DIGITS + LETTERS,
  DIGITS,
  LETTERS,
  DIGITS + LETTERS,
  DIGITS,
  LETTERS,
  LETTERS,
  DIGITS,
  DIGITS,
]

/** Every valid MBI one character away from `mbi` (same synthetic marker). */
function neighbours(mbi: string): string[] {
  const out: string[] = []
  for (let i = 0; i < 11; i++) {
    for (const c of CLASS[i]!) if (c !== mbi[i]) out.push(mbi.slice(0, i) + c + mbi.slice(i + 1))
  }
  return out.filter(isMbi)
}

let db: TestDatabase
let key: RingKey
let app: ReturnType<typeof createApp>
/** The oracle: every MBI in the database and the bene_ids that hold it, now or before. */
const holders = new Map<string, Set<string>>()
const universe: string[] = []

function hold(mbi: string, beneId: string) {
  if (!holders.has(mbi)) holders.set(mbi, new Set())
  holders.get(mbi)!.add(beneId)
}

beforeAll(async () => {
  db = await createTestDatabase()
  const bases = [0, 1, 2, 3].map((i) => syntheticMbi(i * 7919))
  const benes: { bene_id: string; mbi_num: string }[] = []
  const history: { bene_history_id: string; bene_id: string; mbi_num: string }[] = []
  let id = -1000
  for (const base of bases) {
    // The base and eight of its neighbours each belong to a different beneficiary.
    for (const mbi of [
      base,
      ...neighbours(base)
        .filter((_, i) => i % 9 === 0)
        .slice(0, 8),
    ]) {
      const beneId = String(id--)
      benes.push({ bene_id: beneId, mbi_num: mbi })
      hold(mbi, beneId)
    }
  }
  // Historical MBIs: some one character away from another's current MBI, one equal to another's
  // current MBI (ambiguous), and one MBI that two beneficiaries both hold now (ambiguous).
  for (const [n, bene] of benes.entries()) {
    if (n % 3 !== 0) continue
    const other = benes[(n + 5) % benes.length]!
    const old = n % 6 === 0 ? neighbours(other.mbi_num)[n % 7]! : other.mbi_num
    history.push({ bene_history_id: String(-5000 - n), bene_id: bene.bene_id, mbi_num: old })
    hold(old, bene.bene_id)
  }
  const shared = syntheticMbi(424_242)
  for (const beneId of ['-9001', '-9002']) {
    benes.push({ bene_id: beneId, mbi_num: shared })
    hold(shared, beneId)
  }
  const rows = benes.map((b) => ({
    ...b,
    bene_srnm_name: 'Doe',
    bene_gvn_name: 'Pat',
    bene_birth_dt: '1950-01-01',
    bene_sex_ident_cd: '1',
  }))
  await db.sql`insert into beneficiaries ${db.sql(rows)}`
  await db.sql`insert into beneficiaries_history ${db.sql(history)}`
  for (const mbi of holders.keys()) universe.push(mbi, ...neighbours(mbi).slice(0, 6))

  const { ring } = await twoKeyRing()
  key = ring.active()[0]!
  app = createApp({
    keys: staticKeyRing(ring),
    sql: db.sql,
    logger: capturingLogger().logger,
    publicBaseUrl: 'http://gw.test',
  })
})
afterAll(() => db?.close())

describe('the wrong-patient guard', () => {
  it('the data set has near-identical, historical and ambiguous MBIs', () => {
    const ambiguous = [...holders.values()].filter((s) => s.size > 1)
    expect(ambiguous.length).toBeGreaterThanOrEqual(2)
    expect(universe.length).toBeGreaterThan(holders.size)
  })

  it('returns exactly the holder of the MBI, no one, or the ambiguity error (property)', async () => {
    const candidate = fc.oneof(
      fc.constantFrom(...universe),
      fc.integer({ min: 0, max: 50_000 }).map((i) => syntheticMbi(i) as string),
    )
    await fc.assert(
      fc.asyncProperty(candidate, async (mbi) => {
        const res = await app.request(searchPath(await encryptMbiJwe(mbi, key.publicJwk)))
        const body = (await res.json()) as {
          total?: number
          entry?: { resource: { id: string; identifier: { system: string; value: string }[] } }[]
          issue?: { code: string }[]
        }
        const expected = holders.get(mbi) ?? new Set<string>()
        if (expected.size > 1) {
          expect(res.status).toBe(409)
          expect(body.issue![0]!.code).toBe('multiple-matches')
        } else if (expected.size === 1) {
          expect(res.status).toBe(200)
          expect(body.total).toBe(1)
          const patient = body.entry![0]!.resource
          expect(patient.id).toBe([...expected][0])
          const mbis = patient.identifier.filter(
            (i) => i.system === 'http://hl7.org/fhir/sid/us-mbi',
          )
          expect(mbis.map((i) => i.value)).toContain(mbi)
        } else {
          expect(res.status).toBe(200)
          expect(body.total).toBe(0)
        }
      }),
      { numRuns: 200 },
    )
  })
})
