import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encryptMbiJwe } from '@sealed-search/client'
import { TokenError } from '../../src/crypto/errors.js'
import {
  AMBIGUOUS_MBI,
  seed,
  seededBeneId,
  seededHicn,
  seededHistoricMbi,
  seededMbi,
} from '../../src/db/seed.js'
import { createSql } from '../../src/db/sql.js'
import { staticKeyRing, type KeyRing } from '../../src/keys/ring/keyring.js'
import type { RingKey } from '../../src/keys/ring/ring-key.js'
import { createAudit } from '../../src/log/audit.js'
import { createMetrics } from '../../src/metrics/index.js'
import {
  readPatient,
  SearchError,
  searchPatients,
  type PatientQuery,
  type SearchDeps,
} from '../../src/search/index.js'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { twoKeyRing } from '../support/keys.js'
import { jweFor } from '../support/tokens.js'

// The search layer called directly, with no HTTP: the embedded database, or the server named by
// DATABASE_URL, seeded with synthetic beneficiaries.

const NOW = new Date('2026-06-01T12:00:00Z')
const SUNSET = new Date('2027-01-01T00:00:00Z')
const PAGE = { count: 10, startIndex: 0 }

let db: TestDatabase
let ring: KeyRing
let p256: RingKey
const audit = createAudit({ write: () => {} })

function deps(extra: Partial<SearchDeps> = {}): SearchDeps {
  return {
    sql: db.sql,
    keys: staticKeyRing(ring),
    clock: () => NOW,
    metrics: createMetrics({ defaultMetrics: false }),
    audit,
    features: {},
    ...extra,
  }
}

async function byToken(mbi: string, extra: Partial<PatientQuery> = {}): Promise<PatientQuery> {
  const token = await encryptMbiJwe(mbi, p256.publicJwk)
  return { identifier: { system: 'mbi-encrypted', token }, paging: PAGE, ...extra }
}

beforeAll(async () => {
  db = await createTestDatabase()
  await seed(db.sql, { count: 20 })
  ring = (await twoKeyRing()).ring
  p256 = ring.keys.find((k) => k.crv === 'P-256')!
})
afterAll(() => db?.close())

describe('searchPatients', () => {
  it('finds the beneficiary of an encrypted MBI, with the facts the audit trail needs', async () => {
    const result = await searchPatients(await byToken(seededMbi(3)), deps())
    expect(result.ok).toBe(true)
    if (!result.ok) return
    expect(result.total).toBe(1)
    expect(result.beneficiaries.map((b) => b.beneId)).toEqual([seededBeneId(3)])
    expect(result.facts).toEqual({
      format: 'jwe',
      kid: p256.kid,
      fingerprint: audit.fingerprint(seededMbi(3)),
      beneIds: [seededBeneId(3)],
      results: 1,
      outcome: 'match',
    })
    expect(JSON.stringify(result.facts)).not.toContain(seededMbi(3))
  })

  it('finds a beneficiary by an earlier MBI', async () => {
    const result = await searchPatients(await byToken(seededHistoricMbi(5)!), deps())
    expect(result.ok && result.beneficiaries[0]?.beneId).toBe(seededBeneId(5))
  })

  it('answers no match with an empty page', async () => {
    const result = await searchPatients(await byToken('1S00A00AA99'), deps())
    expect(result).toMatchObject({ ok: true, total: 0, beneficiaries: [] })
    expect(result.facts.outcome).toBe('no_match')
  })

  it('fails an MBI two beneficiaries share, returning neither, facts kept', async () => {
    const result = await searchPatients(await byToken(AMBIGUOUS_MBI), deps())
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.error).toBeInstanceOf(SearchError)
    expect((result.error as SearchError).code).toBe('ERR_MULTIPLE_MATCHES')
    expect(result.facts.fingerprint).toBe(audit.fingerprint(AMBIGUOUS_MBI))
    expect(result.facts.beneIds).toBeUndefined()
  })

  it('ANDs _id with the identifier, and searches by _id alone', async () => {
    const other = await searchPatients(
      await byToken(seededMbi(3), { beneId: seededBeneId(4) }),
      deps(),
    )
    expect(other).toMatchObject({ ok: true, total: 0 })
    const same = await searchPatients(
      await byToken(seededMbi(3), { beneId: seededBeneId(3) }),
      deps(),
    )
    expect(same).toMatchObject({ ok: true, total: 1 })
    const byId = await searchPatients({ beneId: seededBeneId(6), paging: PAGE }, deps())
    expect(byId).toMatchObject({ ok: true, total: 1, facts: { format: 'id' } })
  })

  it('counts a match on an empty page (_count=0)', async () => {
    const result = await searchPatients(
      await byToken(seededMbi(3), { paging: { count: 0, startIndex: 0 } }),
      deps(),
    )
    expect(result).toMatchObject({ ok: true, total: 1, beneficiaries: [] })
    expect(result.facts).toMatchObject({ outcome: 'match', results: 0, beneIds: [] })
  })

  it('returns a token failure as the error, with no identifier facts', async () => {
    const bad = await jweFor(p256, 'not an MBI')
    const result = await searchPatients(
      { identifier: { system: 'mbi-encrypted', token: bad }, paging: PAGE },
      deps(),
    )
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.error).toBeInstanceOf(TokenError)
    expect(result.facts.fingerprint).toBeUndefined()
  })

  it('keeps the fingerprint of a token refused by the replay window', async () => {
    const policy = { requireExp: true, maxLifetimeSeconds: 300 }
    const result = await searchPatients(await byToken(seededMbi(8)), deps({ tokenPolicy: policy }))
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect((result.error as TokenError).code).toBe('ERR_TOKEN_EXP_REQUIRED')
    expect(result.facts).toMatchObject({
      kid: p256.kid,
      fingerprint: audit.fingerprint(seededMbi(8)),
    })
  })

  it('gates the encrypted HICN search behind its feature', async () => {
    const hicn = seededHicn(2)!
    const query: PatientQuery = {
      identifier: { system: 'hicn-encrypted', token: await jweFor(p256, hicn) },
      paging: PAGE,
    }
    const off = await searchPatients(query, deps())
    expect(!off.ok && (off.error as SearchError).code).toBe('ERR_IDENTIFIER_SYSTEM_NOT_ENABLED')
    const on = await searchPatients(query, deps({ features: { hicnSearch: true } }))
    expect(on.ok && on.beneficiaries[0]?.beneId).toBe(seededBeneId(2))
    expect(on.facts.fingerprint).toBe(audit.fingerprint(hicn, 'hicn'))
  })

  it('counts the legacy hash path per client, refuses it when off, and gives its dates when on', async () => {
    const query: PatientQuery = {
      identifier: { system: 'mbi-hash', hash: 'ab'.repeat(32) },
      paging: PAGE,
      client: 'partner-a',
    }
    const off = deps()
    const refused = await searchPatients(query, off)
    expect(!refused.ok && (refused.error as SearchError).code).toBe(
      'ERR_IDENTIFIER_SYSTEM_NOT_ENABLED',
    )
    expect(refused.deprecation).toBeUndefined()
    const counted = await off.metrics.legacyHashRequests.get()
    expect(counted.values).toEqual([
      expect.objectContaining({ labels: { client: 'partner-a' }, value: 1 }),
    ])

    const legacyHash = { sunset: SUNSET, deprecation: undefined }
    const served = await searchPatients(query, deps({ features: { legacyHash } }))
    expect(served).toMatchObject({ ok: true, total: 0, facts: { format: 'mbi-hash' } })
    expect(served.deprecation).toEqual({ deprecation: undefined, sunset: SUNSET })
  })

  it('keeps the deprecation notice when the database is out of reach', async () => {
    // Nothing listens on port 1: the connection is refused.
    const down = createSql({
      url: 'postgres://x:y@127.0.0.1:1/none',
      max: 1,
      connectTimeoutSeconds: 2,
    })
    try {
      const legacyHash = { sunset: SUNSET, deprecation: new Date('2026-01-01T00:00:00Z') }
      const result = await searchPatients(
        { identifier: { system: 'mbi-hash', hash: 'cd'.repeat(32) }, paging: PAGE },
        deps({ sql: down, features: { legacyHash } }),
      )
      expect(result.ok).toBe(false)
      if (result.ok) return
      expect((result.error as SearchError).code).toBe('ERR_DB_UNAVAILABLE')
      expect(result.deprecation?.sunset).toEqual(SUNSET)
    } finally {
      await down.end()
    }
  })
})

describe('readPatient', () => {
  it('reads a beneficiary by bene_id, or none', async () => {
    const found = await readPatient(seededBeneId(9), deps())
    expect(found.ok && found.beneficiary?.mbi).toBe(seededMbi(9))
    expect(found.facts).toEqual({
      format: 'id',
      beneIds: [seededBeneId(9)],
      results: 1,
      outcome: 'match',
    })
    const none = await readPatient('42', deps())
    expect(none).toMatchObject({ ok: true, beneficiary: undefined, facts: { outcome: 'no_match' } })
  })
})
