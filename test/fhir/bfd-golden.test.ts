import { readFile } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encryptMbiJwe } from '@sealed-search/client'
import { seed, seededBeneId, seededMbi } from '../../src/db/seed.js'
import type { KeyRing } from '../../src/keys/ring/keyring.js'
import { searchPath, testApp } from '../support/app.js'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { jsonPaths } from '../support/json-paths.js'
import { twoKeyRing } from '../support/keys.js'

// The path structure (no values) of BFD's published v2 Patient responses: see the file's
// "source" for where it comes from and scripts/bfd-paths.ts for how it is made.
interface Golden {
  source: string
  patient: string[]
  patientWithAddressFields: string[]
  searchset: string[]
}
const golden = JSON.parse(
  await readFile(new URL('../vectors/bfd-patient-paths.json', import.meta.url), 'utf8'),
) as Golden

/**
 * Paths the gateway serves that BFD's fixtures do not show, each a documented difference
 * (README, "Differences from BFD"): BFD's transformer writes `deceasedBoolean: false` for the
 * living (its fixtures show only a deceased beneficiary), and each searchset entry here has the
 * `fullUrl` and `search.mode` FHIR recommends.
 */
const PATIENT_EXTRA = ['deceasedBoolean']
const SEARCHSET_EXTRA = [
  'entry[].fullUrl',
  'entry[].search.mode',
  'entry[].resource.deceasedBoolean',
]

// Seeded beneficiaries that together show every element: 20 has an earlier MBI, a middle
// initial, an enrollment year and dual codes; 49 has died.
const SHOWN = [20, 49]

let db: TestDatabase
let ring: KeyRing
let app: ReturnType<typeof testApp>['app']

beforeAll(async () => {
  db = await createTestDatabase()
  await seed(db.sql, { count: 60 })
  ring = (await twoKeyRing()).ring
  ;({ app } = testApp(ring, db.sql))
})
afterAll(() => db?.close())

async function servedPaths(paths: string[], headers: Record<string, string> = {}) {
  const out = new Set<string>()
  for (const path of paths) {
    const res = await app.request(path, { headers })
    expect(res.status).toBe(200)
    for (const p of jsonPaths(await res.json())) out.add(p)
  }
  return out
}

function compare(served: Set<string>, expected: string[], extra: string[]) {
  const missing = expected.filter((p) => !served.has(p))
  const unexpected = [...served].filter((p) => !expected.includes(p) && !extra.includes(p))
  return { missing, unexpected }
}

describe("the Patient's path structure against BFD's v2 fixtures", () => {
  it('cites where the paths come from', () => {
    expect(golden.source).toMatch(/CMSgov\/beneficiary-fhir-data/)
    expect(golden.patient.length).toBeGreaterThan(80)
  })

  it('a read has every path of BFD patientRead and none it lacks', async () => {
    const served = await servedPaths(SHOWN.map((i) => `/v2/fhir/Patient/${seededBeneId(i)}`))
    expect(compare(served, golden.patient, PATIENT_EXTRA)).toEqual({ missing: [], unexpected: [] })
  })

  it('IncludeAddressFields: true adds the address lines and city, as BFD does', async () => {
    const served = await servedPaths(
      SHOWN.map((i) => `/v2/fhir/Patient/${seededBeneId(i)}`),
      { IncludeAddressFields: 'true' },
    )
    expect(compare(served, golden.patientWithAddressFields, PATIENT_EXTRA)).toEqual({
      missing: [],
      unexpected: [],
    })
  })

  it('a searchset, by identifier and by _id, has every path of BFD patientByIdentifier and patientSearchById', async () => {
    const p256 = ring.keys.find((k) => k.crv === 'P-256')!
    const served = await servedPaths([
      searchPath(await encryptMbiJwe(seededMbi(SHOWN[0]!), p256.publicJwk)),
      `/v2/fhir/Patient?_id=${seededBeneId(SHOWN[1]!)}`,
    ])
    expect(compare(served, golden.searchset, SEARCHSET_EXTRA)).toEqual({
      missing: [],
      unexpected: [],
    })
  })
})
