import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encryptMbiJwe } from '@sealed-search/client'
import { REFERENCE_YEAR_NONE_EVERY, seed, seededBeneId, seededMbi } from '../../src/db/seed.js'
import { DUAL_STATUS, RACE } from '../../src/fhir/codebook.js'
import type { KeyRing } from '../../src/keys/ring/keyring.js'
import type { RingKey } from '../../src/keys/ring/ring-key.js'
import { errorCode, searchPath, testApp, type Outcome } from '../support/app.js'
import { createTestDatabase, realServer, type TestDatabase } from '../support/db.js'
import { twoKeyRing } from '../support/keys.js'
import { post, SEARCH, US_MBI } from '../support/parity.js'

// BFD's v2 Patient details and URL forms, over the embedded database or DATABASE_URL's server.

const VARS = 'https://bluebutton.cms.gov/resources/variables'
/** A clock far from the data: a Bundle's meta.lastUpdated must not be the time of the request. */
const CLOCK = new Date('2031-01-01T00:00:00Z')
/** Beneficiary 3 (no history row) is given this last_updated. */
const STAMP = '2024-03-15T12:00:00.000Z'
const STAMPED = 3

let db: TestDatabase
let ring: KeyRing
let p256: RingKey
let app: ReturnType<typeof testApp>['app']

beforeAll(async () => {
  db = await createTestDatabase()
  await seed(db.sql, { count: 30 })
  await db.sql`update beneficiaries set last_updated = ${STAMP} where bene_id = ${seededBeneId(STAMPED)}`
  ring = (await twoKeyRing()).ring
  p256 = ring.keys.find((k) => k.crv === 'P-256')!
  ;({ app } = testApp(ring, db.sql, () => CLOCK))
})
afterAll(() => db?.close())

interface Json {
  total?: number
  entry?: { resource: Patient }[]
  link?: { relation: string; url: string }[]
  meta?: { lastUpdated: string }
}
interface Patient {
  id: string
  meta: { lastUpdated: string }
  extension?: { url: string; valueCode?: string; valueDate?: string; valueCoding?: Coding }[]
  address?: { line?: string[]; city?: string; state?: string; postalCode?: string }[]
}
interface Coding {
  system: string
  code: string
  display?: string
}

async function get(path: string, headers: Record<string, string> = {}) {
  const res = await app.request(path, { headers })
  const text = await res.text()
  return { status: res.status, text, json: JSON.parse(text) as Json & Patient & Outcome }
}
const read = (i: number, headers?: Record<string, string>) =>
  get(`/v2/fhir/Patient/${seededBeneId(i)}`, headers)
const token = (i: number) => encryptMbiJwe(seededMbi(i), p256.publicJwk)

describe(`the Patient's BFD extensions (${realServer ? 'PostgreSQL server' : 'embedded'})`, () => {
  it('has us-core-sex, race with its display, us-core-race, rfrnc_yr and twelve dual codes', async () => {
    const { json } = await read(20)
    const ext = json.extension!
    expect(ext.map((e) => e.url)).toEqual([
      'http://hl7.org/fhir/us/core/StructureDefinition/us-core-sex',
      `${VARS}/race`,
      'http://hl7.org/fhir/us/core/StructureDefinition/us-core-race',
      `${VARS}/rfrnc_yr`,
      ...Array.from({ length: 12 }, (_, m) => `${VARS}/dual_${String(m + 1).padStart(2, '0')}`),
    ])
    expect(ext[0]!.valueCode).toBe('248152002') // index 20 is female (sex code 2)
    const race = ext[1]!.valueCoding!
    expect(race).toEqual({ system: `${VARS}/race`, code: race.code, display: RACE[race.code] })
    expect(ext[3]!.valueDate).toMatch(/^20\d\d$/)
    for (const dual of ext.slice(4)) {
      const c = dual.valueCoding!
      expect(c.system).toBe(dual.url)
      expect(c.display).toBe(DUAL_STATUS[c.code])
    }
  })

  it('leaves out rfrnc_yr and the dual codes when the enrollment year is unknown, as BFD does', async () => {
    const { json } = await read(REFERENCE_YEAR_NONE_EVERY - 1)
    const urls = json.extension!.map((e) => e.url)
    expect(urls).toContain(`${VARS}/race`)
    expect(urls.some((u) => u.includes('rfrnc_yr') || u.includes('dual_'))).toBe(false)
  })
})

describe('BFD request headers', () => {
  it('IncludeAddressFields: true (any case) adds the mailing lines and city', async () => {
    for (const value of ['true', 'TRUE']) {
      const [address] = (await read(4, { IncludeAddressFields: value })).json.address!
      expect(address!.line!.length).toBeGreaterThan(0)
      expect(address!.city).toMatch(/^[A-Z ]+$/)
    }
    const without: Record<string, string>[] = [
      {},
      { IncludeAddressFields: 'false' },
      { IncludeAddressFields: 'yes' },
    ]
    for (const headers of without) {
      const [address] = (await read(4, headers)).json.address!
      expect(Object.keys(address!).sort()).toEqual(['postalCode', 'state'])
    }
  })

  it('IncludeAddressFields applies to searches too', async () => {
    const { json } = await get(searchPath(await token(4)), { IncludeAddressFields: 'true' })
    expect(json.entry![0]!.resource.address![0]!.city).toBeDefined()
  })

  it('IncludeIdentifiers takes true, false, hicn, mbi (comma-separated, any case) and changes nothing', async () => {
    const plain = (await read(5)).json
    for (const value of ['true', 'false', 'mbi', 'hicn, MBI', '']) {
      const r = await read(5, { IncludeIdentifiers: value })
      expect(r.status).toBe(200)
      expect((r.json as unknown as { identifier: unknown }).identifier).toEqual(
        (plain as unknown as { identifier: unknown }).identifier,
      )
    }
  })

  it('IncludeIdentifiers with another value is 400, as in BFD', async () => {
    const r = await read(5, { IncludeIdentifiers: 'ssn' })
    expect([r.status, errorCode(r.json)]).toEqual([400, 'ERR_HEADER_INVALID'])
  })
})

describe('URL forms BFD accepts', () => {
  it('serves /v2/fhir/Patient/ with a trailing slash as without', async () => {
    for (const query of [`_id=${seededBeneId(6)}`, searchPath(await token(6)).split('?')[1]!]) {
      const a = await get(`/v2/fhir/Patient?${query}`)
      const b = await get(`/v2/fhir/Patient/?${query}`)
      expect([a.status, b.status]).toEqual([200, 200])
      expect(b.json.entry!.map((e) => e.resource.id)).toEqual([seededBeneId(6)])
      expect(b.json.total).toBe(a.json.total)
    }
  })

  it.each([
    'json',
    'application/json',
    'application/fhir+json',
    'application/fhir%2Bjson',
    'application/json+fhir',
    'application/fhir%2Bjson;fhirVersion=4.0',
    'application/fhir+json%3Bcharset%3Dutf-8',
  ])('takes _format=%s on a search and a read', async (format) => {
    expect((await get(`/v2/fhir/Patient?_id=${seededBeneId(1)}&_format=${format}`)).status).toBe(
      200,
    )
    expect((await get(`/v2/fhir/Patient/${seededBeneId(1)}?_format=${format}`)).status).toBe(200)
  })

  it.each(['xml', 'application/fhir%2Bxml', 'application/xml+fhir', 'text/xml'])(
    'answers _format=%s with 406',
    async (format) => {
      const r = await get(`/v2/fhir/Patient?_id=${seededBeneId(1)}&_format=${format}`)
      expect([r.status, errorCode(r.json)]).toEqual([406, 'ERR_FORMAT_UNSUPPORTED'])
      const read = await get(`/v2/fhir/Patient/${seededBeneId(1)}?_format=${format}`)
      expect(read.status).toBe(406)
    },
  )

  it('honours _pretty=true and _summary=count; accepts _summary=true and _elements', async () => {
    const id = `_id=${seededBeneId(2)}`
    const pretty = await get(`/v2/fhir/Patient?${id}&_pretty=true`)
    expect(pretty.text).toContain('\n  "resourceType": "Bundle"')
    expect((await get(`/v2/fhir/Patient?${id}`)).text).not.toContain('\n')
    const count = await get(`/v2/fhir/Patient?${id}&_summary=count`)
    expect([count.json.total, count.json.entry]).toEqual([1, undefined])
    for (const extra of ['_summary=true', '_summary=data', '_elements=id,name', '_pretty=false']) {
      const r = await get(`/v2/fhir/Patient?${id}&${extra}`)
      expect([r.status, r.json.entry?.length]).toEqual([200, 1])
    }
    const readPretty = await get(`/v2/fhir/Patient/${seededBeneId(2)}?_pretty=true&_elements=id`)
    expect(readPretty.text).toContain('\n  "resourceType": "Patient"')
  })

  it('refuses _summary with another value and any other _ parameter', async () => {
    const bad = await get(`/v2/fhir/Patient?_id=${seededBeneId(2)}&_summary=some`)
    expect([bad.status, errorCode(bad.json)]).toEqual([400, 'ERR_PARAM_INVALID'])
    const unknown = await get(`/v2/fhir/Patient?_id=${seededBeneId(2)}&_sort=name`)
    expect([unknown.status, errorCode(unknown.json)]).toEqual([400, 'ERR_PARAM_UNSUPPORTED'])
  })
})

describe('_lastUpdated, by GET and POST, with identifier and with _id', () => {
  const cases: [string, number][] = [
    ['ge2024-03-15', 1],
    ['gt2024-03-15', 0],
    ['gt2024-03-14', 1],
    ['lt2024-03-15', 0],
    ['le2024-03-15', 1],
    ['eq2024-03', 1],
    ['2024-03-15T12:00:00Z', 1],
    ['2024-03-15T13:00:00%2B01:00', 1],
    ['lt2024-03-15T12:00:00Z', 0],
  ]

  it.each(cases)('GET by _id with _lastUpdated=%s finds %i', async (value, total) => {
    const r = await get(`/v2/fhir/Patient?_id=${seededBeneId(STAMPED)}&_lastUpdated=${value}`)
    expect([r.status, r.json.total]).toEqual([200, total])
  })

  it('GET by identifier, with two values, and keeps them in the paging links', async () => {
    const path = `${searchPath(await token(STAMPED))}&_lastUpdated=ge2024-01-01&_lastUpdated=lt2025-01-01`
    const r = await get(path)
    expect(r.json.total).toBe(1)
    const first = r.json.link!.find((l) => l.relation === 'first')!.url
    expect(first).toContain('_lastUpdated=ge2024-01-01&_lastUpdated=lt2025-01-01')
    const out = await get(
      `${searchPath(await token(STAMPED))}&_lastUpdated=ge2024-04-01&_lastUpdated=lt2025`,
    )
    expect(out.json.total).toBe(0)
  })

  it('POST with a plaintext identifier and with _id', async () => {
    const body = (extra: Record<string, string>, lastUpdated: string) =>
      `${new URLSearchParams(extra)}&_lastUpdated=${encodeURIComponent(lastUpdated)}`
    const byMbi = { identifier: `${US_MBI}|${seededMbi(STAMPED)}` }
    const byId = { _id: seededBeneId(STAMPED) }
    for (const params of [byMbi, byId]) {
      const hit = await app.request(SEARCH, post(body(params, 'le2024-03-15')))
      expect(((await hit.json()) as Json).total).toBe(1)
      const miss = await app.request(SEARCH, post(body(params, 'gt2024-03-15')))
      expect(((await miss.json()) as Json).total).toBe(0)
    }
  })

  it('refuses three values, a comma list and an unknown prefix', async () => {
    const id = `_id=${seededBeneId(STAMPED)}`
    for (const q of [
      '_lastUpdated=ge2024&_lastUpdated=lt2025&_lastUpdated=lt2026',
      '_lastUpdated=ge2024,lt2025',
      '_lastUpdated=ne2024',
    ]) {
      expect((await get(`/v2/fhir/Patient?${id}&${q}`)).status).toBe(400)
    }
  })
})

describe("a Bundle's meta.lastUpdated", () => {
  it("is the match's last_updated, not the time of the request", async () => {
    const r = await get(`/v2/fhir/Patient?_id=${seededBeneId(STAMPED)}`)
    expect(r.json.meta!.lastUpdated).toBe(STAMP)
    expect(r.json.entry![0]!.resource.meta.lastUpdated).toBe(STAMP)
  })

  it("is the database's freshness when nothing matched", async () => {
    const [row] = await db.sql<{ newest: Date }[]>`
      select greatest((select max(last_updated) from beneficiaries),
                      (select max(last_updated) from beneficiaries_history)) as newest`
    const r = await get(`/v2/fhir/Patient?_id=42`)
    expect(r.json.total).toBe(0)
    expect(r.json.meta!.lastUpdated).toBe(row!.newest.toISOString())
    expect(r.json.meta!.lastUpdated).not.toBe(CLOCK.toISOString())
  })
})
