import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encryptMbiJwe } from '@sealed-search/client'
import {
  AMBIGUOUS_BENE_IDS,
  AMBIGUOUS_MBI,
  seed,
  seededBeneId,
  seededHistoricMbi,
  seededMbi,
} from '../../src/db/seed.js'
import { pageOf, pagingLinks } from '../../src/fhir/paging.js'
import { syntheticMbi } from '../../src/identifiers/synthetic.js'
import type { KeyRing } from '../../src/keys/ring/keyring.js'
import type { RingKey } from '../../src/keys/ring/ring-key.js'
import { BASE, ENCRYPTED } from '../support/app.js'
import { createTestDatabase, realServer, type TestDatabase } from '../support/db.js'
import { twoKeyRing } from '../support/keys.js'
import {
  errorCodeOf,
  expectNoneOf,
  parityApp,
  post,
  SEARCH,
  US_MBI,
  type FhirJson,
} from '../support/parity.js'

const COUNT = 40
let db: TestDatabase
let ring: KeyRing
let p256: RingKey
let gw: ReturnType<typeof parityApp>

beforeAll(async () => {
  db = await createTestDatabase()
  await seed(db.sql, { count: COUNT })
  ring = (await twoKeyRing()).ring
  p256 = ring.keys.find((k) => k.crv === 'P-256')!
  gw = parityApp(ring, db.sql)
})
afterAll(() => db?.close())

/** Every seeded MBI, current and historic, plus the shared one: none may ever be logged. */
function allSeededMbis(): string[] {
  const out: string[] = [AMBIGUOUS_MBI, syntheticMbi(2_000_000_001)]
  for (let i = 0; i < COUNT; i++) {
    out.push(seededMbi(i))
    const old = seededHistoricMbi(i)
    if (old) out.push(old)
  }
  return out
}

const token = (mbi: string) => encryptMbiJwe(mbi, p256.publicJwk)
const encrypted = async (mbi: string) => `${ENCRYPTED}|${await token(mbi)}`
const ids = (b: FhirJson) => (b.entry ?? []).map((e) => e.resource.id)
const relations = (b: FhirJson) => (b.link ?? []).map((l) => l.relation)
const link = (b: FhirJson, relation: string) => b.link?.find((l) => l.relation === relation)?.url
const lastLine = (part: string) => [...gw.lines].reverse().find((l) => l.includes(part)) ?? ''

describe(`POST /v2/fhir/Patient/_search (${realServer ? 'PostgreSQL server' : 'embedded'})`, () => {
  it('finds a Patient by a plaintext MBI sent in a form body', async () => {
    const r = await gw.request(SEARCH, post({ identifier: `${US_MBI}|${seededMbi(3)}` }))
    expect(r.status).toBe(200)
    expect(r.res.headers.get('content-type')).toMatch(/^application\/fhir\+json/)
    expect(r.res.headers.get('cache-control')).toBe('no-store')
    const body = r.json()
    expect(body).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 1 })
    expect(ids(body)).toEqual([seededBeneId(3)])
  })

  it('finds a beneficiary by a historic plaintext MBI, lower case or dashed', async () => {
    const old = seededHistoricMbi(5)!
    const dashed = `${old.slice(0, 4)}-${old.slice(4, 7)}-${old.slice(7)}`.toLowerCase()
    const r = await gw.request(SEARCH, post({ identifier: `${US_MBI}|${dashed}` }))
    expect(ids(r.json())).toEqual([seededBeneId(5)])
  })

  it('gives a plaintext search a self link to _search and no link that could repeat the MBI', async () => {
    const mbi = seededMbi(4)
    for (const startIndex of ['0', '3']) {
      const r = await gw.request(SEARCH, post({ identifier: `${US_MBI}|${mbi}`, startIndex }))
      const body = r.json()
      expect(body.total).toBe(1)
      expect(body.link).toEqual([{ relation: 'self', url: `${BASE}/v2/fhir/Patient/_search` }])
      expect(JSON.stringify(body.link)).not.toContain(mbi)
    }
  })

  it('finds a Patient by an encrypted MBI in a form body, linking GET URLs with the ciphertext', async () => {
    const t = await token(seededMbi(6))
    const r = await gw.request(SEARCH, post({ identifier: `${ENCRYPTED}|${t}` }))
    const body = r.json()
    expect(ids(body)).toEqual([seededBeneId(6)])
    const query = `identifier=${ENCRYPTED}%7C${t}&_count=10&startIndex=0`
    expect(body.link).toEqual([
      { relation: 'self', url: `${BASE}/v2/fhir/Patient?${query}` },
      { relation: 'first', url: `${BASE}/v2/fhir/Patient?${query}` },
      { relation: 'last', url: `${BASE}/v2/fhir/Patient?${query}` },
    ])
    expect(JSON.stringify(body.link)).not.toContain(seededMbi(6))
  })

  it('finds a Patient by _id in a form body', async () => {
    const r = await gw.request(SEARCH, post({ _id: seededBeneId(7) }))
    expect(ids(r.json())).toEqual([seededBeneId(7)])
  })

  it('answers the MBI two beneficiaries share with 409, naming neither', async () => {
    const r = await gw.request(SEARCH, post({ identifier: `${US_MBI}|${AMBIGUOUS_MBI}` }))
    expect(r.status).toBe(409)
    expect(errorCodeOf(r.json())).toBe('ERR_MULTIPLE_MATCHES')
    for (const s of [AMBIGUOUS_MBI, ...AMBIGUOUS_BENE_IDS]) expect(r.text).not.toContain(s)
  })

  it.each([
    ['an MBI with a letter where a digit goes', '1SAAA00AA00'],
    ['an MBI with a forbidden letter', '1S00B00AA00'],
    ['a truncated MBI', '1S00A00AA0'],
  ])('refuses %s with 400 and does not echo it', async (_what, bad) => {
    const r = await gw.request(SEARCH, post({ identifier: `${US_MBI}|${bad}` }))
    expect([r.status, errorCodeOf(r.json())]).toEqual([400, 'ERR_IDENTIFIER_INVALID'])
    expect(r.text).not.toContain(bad)
  })

  it.each([
    ['application/json', JSON.stringify({ identifier: `${US_MBI}|1S00A00AA00` })],
    ['text/plain', `identifier=${US_MBI}|1S00A00AA00`],
    ['multipart/form-data; boundary=x', '--x--'],
    ['application/x-www-form-urlencoded; charset=ISO-8859-1', 'identifier=x'],
  ])('refuses the content type %s with 415 and an Accept-Post header', async (type, body) => {
    const r = await gw.request(SEARCH, post(body, type))
    expect([r.status, errorCodeOf(r.json())]).toEqual([415, 'ERR_CONTENT_TYPE_UNSUPPORTED'])
    expect(r.json().issue![0]!.code).toBe('not-supported')
    expect(r.res.headers.get('accept-post')).toBe('application/x-www-form-urlencoded')
    expect(r.text).not.toContain('1S00A00AA00')
  })

  it('refuses a POST with no content type with 415', async () => {
    const r = await gw.request(SEARCH, { method: 'POST', body: 'identifier=x' })
    expect(r.status).toBe(415)
  })

  it('accepts a form body declared as UTF-8', async () => {
    const init = post({ _id: seededBeneId(8) }, 'application/x-www-form-urlencoded; charset=UTF-8')
    expect(ids((await gw.request(SEARCH, init)).json())).toEqual([seededBeneId(8)])
  })

  it('refuses a body over 8 KiB with 413, by Content-Length or streamed', async () => {
    const big = `identifier=${US_MBI}|${seededMbi(1)}&pad=${'x'.repeat(9000)}`
    const byLength = await gw.request(SEARCH, post(big))
    expect([byLength.status, errorCodeOf(byLength.json())]).toEqual([413, 'ERR_BODY_TOO_LARGE'])
    const bytes = new TextEncoder().encode(big)
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 1000) controller.enqueue(bytes.slice(i, i + 1000))
        controller.close()
      },
    })
    const streamed = await gw.request(SEARCH, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: stream,
      duplex: 'half',
    } as RequestInit)
    expect([streamed.status, errorCodeOf(streamed.json())]).toEqual([413, 'ERR_BODY_TOO_LARGE'])
    expect(byLength.text + streamed.text).not.toContain(seededMbi(1))
  })

  it('refuses search parameters in the URL of a POST, masking the MBI in the log', async () => {
    const mbi = seededMbi(9)
    const r = await gw.request(`${SEARCH}?identifier=${US_MBI}|${mbi}`, post({ _id: '1' }))
    expect([r.status, errorCodeOf(r.json())]).toEqual([400, 'ERR_PARAM_UNSUPPORTED'])
    expect(r.text).not.toContain(mbi)
    const line = lastLine('us-mbi')
    expect(line).toContain('***MBI***')
    expect(line).not.toContain(mbi)
  })

  it.each([
    ['an empty body', '', 'ERR_PARAM_MISSING'],
    ['only paging', '_count=5', 'ERR_PARAM_MISSING'],
    ['an unknown parameter', 'name=Doe', 'ERR_PARAM_UNSUPPORTED'],
    ['a repeated parameter', '_id=1&_id=2', 'ERR_PARAM_REPEATED'],
    ['an unknown system', 'identifier=urn:x|y', 'ERR_IDENTIFIER_SYSTEM_UNSUPPORTED'],
  ])('answers %s with 400 %s', async (_what, body, code) => {
    const r = await gw.request(SEARCH, post(body))
    expect([r.status, errorCodeOf(r.json())]).toEqual([400, code])
  })

  it('answers _format=xml in the body with 406', async () => {
    const r = await gw.request(SEARCH, post('_id=1&_format=xml'))
    expect([r.status, errorCodeOf(r.json())]).toEqual([406, 'ERR_FORMAT_UNSUPPORTED'])
  })

  it.each(['GET', 'PUT', 'DELETE'])(
    'answers %s on _search with 405 Allow: POST',
    async (method) => {
      const r = await gw.request(SEARCH, { method })
      expect([r.status, r.res.headers.get('allow')]).toEqual([405, 'POST'])
    },
  )
})

describe('a plaintext MBI in a GET URL', () => {
  it.each([
    ['canonical', (m: string) => m],
    ['lower case', (m: string) => m.toLowerCase()],
    ['dashed', (m: string) => `${m.slice(0, 4)}-${m.slice(4, 7)}-${m.slice(7)}`],
  ])('is refused with 400 "only supported in POST" and masked in the log (%s)', async (_f, f) => {
    const mbi = f(seededMbi(11))
    const r = await gw.request(`/v2/fhir/Patient?identifier=${US_MBI}%7C${mbi}`)
    expect([r.status, errorCodeOf(r.json())]).toEqual([400, 'ERR_PLAINTEXT_IN_URL'])
    expect(r.json().issue![0]!.diagnostics).toMatch(/only supported in POST/)
    expect(r.text).not.toContain(mbi)
    const line = lastLine('us-mbi')
    expect(line).toMatch(/"status":400/)
    expect(line).toContain('***MBI***')
    expect(line).not.toContain(mbi)
  })
})

describe('GET /v2/fhir/Patient/{bene_id} (read)', () => {
  it('returns the Patient resource itself', async () => {
    const r = await gw.request(`/v2/fhir/Patient/${seededBeneId(12)}`)
    expect(r.status).toBe(200)
    expect(r.res.headers.get('content-type')).toMatch(/^application\/fhir\+json/)
    expect(r.res.headers.get('cache-control')).toBe('no-store')
    const patient = r.json()
    expect(patient).toMatchObject({ resourceType: 'Patient', id: seededBeneId(12) })
    expect(patient.identifier!.map((i) => i.value)).toContain(seededMbi(12))
  })

  it('reads the canonical id whatever leading zeros it is written with', async () => {
    const id = seededBeneId(13) // -10000000013
    const r = await gw.request(`/v2/fhir/Patient/-0${id.slice(1)}`)
    expect(r.json().id).toBe(id)
  })

  it('answers a bene_id nobody has with 404 not-found', async () => {
    const r = await gw.request('/v2/fhir/Patient/123')
    expect([r.status, errorCodeOf(r.json())]).toEqual([404, 'ERR_PATIENT_NOT_FOUND'])
    expect(r.json()).toMatchObject({
      resourceType: 'OperationOutcome',
      issue: [{ code: 'not-found' }],
    })
  })

  it.each(['9223372036854775807', '-9223372036854775808'])(
    'accepts the 64-bit bound %s as an id (404: nobody has it)',
    async (id) => {
      expect((await gw.request(`/v2/fhir/Patient/${id}`)).status).toBe(404)
    },
  )

  it.each([
    ['a word', 'abc'],
    ['a decimal', '1.5'],
    ['one past the largest', '9223372036854775808'],
    ['one below the smallest', '-9223372036854775809'],
    ['twenty digits', '12345678901234567890'],
    ['a plus sign', '+1'],
    ['a plaintext MBI', '1S00A00AA00'],
  ])('refuses %s with 400 and does not echo it', async (_what, id) => {
    const r = await gw.request(`/v2/fhir/Patient/${id}`)
    expect([r.status, errorCodeOf(r.json())]).toEqual([400, 'ERR_ID_INVALID'])
    expect(r.text).not.toContain(id)
  })

  it('refuses search parameters on a read', async () => {
    const r = await gw.request(`/v2/fhir/Patient/${seededBeneId(1)}?name=x`)
    expect([r.status, errorCodeOf(r.json())]).toEqual([400, 'ERR_PARAM_UNSUPPORTED'])
  })

  it('answers DELETE with 405 Allow: GET, HEAD', async () => {
    const r = await gw.request(`/v2/fhir/Patient/${seededBeneId(1)}`, { method: 'DELETE' })
    expect([r.status, r.res.headers.get('allow')]).toEqual([405, 'GET, HEAD'])
  })
})

describe('GET /v2/fhir/Patient?_id=', () => {
  it('finds the Patient with that bene_id', async () => {
    const r = await gw.request(`/v2/fhir/Patient?_id=${seededBeneId(14)}`)
    expect(ids(r.json())).toEqual([seededBeneId(14)])
    expect(link(r.json(), 'self')).toBe(`${BASE}/v2/fhir/Patient?_id=${seededBeneId(14)}`)
  })

  it('returns total 0 for a bene_id nobody has', async () => {
    expect((await gw.request('/v2/fhir/Patient?_id=42')).json()).toMatchObject({ total: 0 })
  })

  it('refuses an _id that is not a 64-bit integer', async () => {
    const r = await gw.request('/v2/fhir/Patient?_id=x1')
    expect([r.status, errorCodeOf(r.json())]).toEqual([400, 'ERR_ID_INVALID'])
  })

  it('ANDs _id with identifier: both must hold', async () => {
    const both = async (mbi: string, id: string) =>
      (await gw.request(SEARCH, post({ identifier: await encrypted(mbi), _id: id }))).json()
    expect(ids(await both(seededMbi(15), seededBeneId(15)))).toEqual([seededBeneId(15)])
    expect(await both(seededMbi(15), seededBeneId(16))).toMatchObject({ total: 0 })
  })
})

describe('paging', () => {
  const get = async (query: string) => (await gw.request(`/v2/fhir/Patient?${query}`)).json()

  it('gives one page of 10 by default with self, first and last links', async () => {
    const body = await get(`_id=${seededBeneId(17)}`)
    expect(body.total).toBe(1)
    expect(relations(body)).toEqual(['self', 'first', 'last'])
    expect(link(body, 'first')).toBe(
      `${BASE}/v2/fhir/Patient?_id=${seededBeneId(17)}&_count=10&startIndex=0`,
    )
  })

  it('gives the total only for _count=0', async () => {
    const body = await get(`_id=${seededBeneId(17)}&_count=0`)
    expect(body.total).toBe(1)
    expect(body.entry).toBeUndefined()
    expect(relations(body)).toEqual(['self'])
  })

  it('gives an empty page past the end, linking back to the first page', async () => {
    const body = await get(`_id=${seededBeneId(17)}&startIndex=5`)
    expect(body.total).toBe(1)
    expect(body.entry).toBeUndefined()
    expect(relations(body)).toEqual(['self', 'first', 'previous', 'last'])
    expect(link(body, 'previous')).toMatch(/&_count=10&startIndex=0$/)
  })

  it('pages one result at a time with _count=1', async () => {
    const first = await get(`_id=${seededBeneId(17)}&_count=1`)
    expect(ids(first)).toEqual([seededBeneId(17)])
    expect(relations(first)).toEqual(['self', 'first', 'last'])
    const second = await get(`_id=${seededBeneId(17)}&_count=1&startIndex=1`)
    expect(second.entry).toBeUndefined()
    expect(link(second, 'previous')).toMatch(/&_count=1&startIndex=0$/)
  })

  it('lowers a _count over 100 to 100 in its links', async () => {
    const body = await get(`_id=${seededBeneId(17)}&_count=5000`)
    expect(link(body, 'first')).toMatch(/&_count=100&startIndex=0$/)
  })

  it('links first and last to the start of an empty result', async () => {
    const body = await get('_id=42')
    expect(relations(body)).toEqual(['self', 'first', 'last'])
    expect(link(body, 'last')).toMatch(/&startIndex=0$/)
  })

  it.each(['_count=-1', '_count=ten', '_count=', 'startIndex=1e3', 'startIndex=1234567890'])(
    'refuses %s with 400 ERR_PARAM_INVALID',
    async (query) => {
      const r = await gw.request(`/v2/fhir/Patient?_id=1&${query}`)
      expect([r.status, errorCodeOf(r.json())]).toEqual([400, 'ERR_PARAM_INVALID'])
    },
  )

  it('puts only the ciphertext in links of an encrypted search, and following one works', async () => {
    const t = await token(seededMbi(18))
    const body = await get(`identifier=${ENCRYPTED}%7C${t}&_count=5`)
    for (const l of body.link!) {
      expect(l.url).toContain(t)
      expect(l.url).not.toContain(seededMbi(18))
    }
    const followed = (await gw.request(link(body, 'first')!.slice(BASE.length))).json()
    expect(ids(followed)).toEqual([seededBeneId(18)])
    expect(link(followed, 'self')).toBe(link(body, 'first'))
  })

  it('computes first, previous, next and last for a result of several pages', () => {
    const url = (i: number) => `p${i}`
    const at = (startIndex: number) =>
      Object.fromEntries(
        pagingLinks(25, { count: 10, startIndex }, url).map((l) => [l.relation, l.url]),
      )
    expect(at(0)).toEqual({ first: 'p0', next: 'p10', last: 'p20' })
    expect(at(10)).toEqual({ first: 'p0', previous: 'p0', next: 'p20', last: 'p20' })
    expect(at(20)).toEqual({ first: 'p0', previous: 'p10', last: 'p20' })
    expect(at(95)).toEqual({ first: 'p0', previous: 'p20', last: 'p20' })
    expect(at(3)).toEqual({ first: 'p0', previous: 'p0', next: 'p13', last: 'p20' })
    expect(pagingLinks(30, { count: 10, startIndex: 0 }, url).at(-1)!.url).toBe('p20')
    expect(pagingLinks(25, { count: 0, startIndex: 0 }, url)).toEqual([])
  })

  it('slices the page out of the whole result', () => {
    const all = Array.from({ length: 25 }, (_, i) => i)
    expect(pageOf(all, { count: 10, startIndex: 20 })).toEqual([20, 21, 22, 23, 24])
    expect(pageOf(all, { count: 10, startIndex: 30 })).toEqual([])
    expect(pageOf(all, { count: 0, startIndex: 0 })).toEqual([])
  })
})

describe('GET /v2/fhir/metadata', () => {
  it('describes read, search-type by GET and POST, and the four parameters', async () => {
    const cs = (await gw.request('/v2/fhir/metadata')).json() as unknown as {
      rest: {
        resource: {
          interaction: { code: string; documentation: string }[]
          searchParam: { name: string; type: string; documentation: string }[]
        }[]
      }[]
    }
    const patient = cs.rest[0]!.resource[0]!
    expect(patient.interaction.map((i) => i.code)).toEqual(['read', 'search-type'])
    expect(patient.interaction[1]!.documentation).toContain('POST /Patient/_search')
    expect(patient.searchParam.map((p) => [p.name, p.type])).toEqual([
      ['_id', 'token'],
      ['identifier', 'token'],
      ['_lastUpdated', 'date'],
      ['_count', 'number'],
      ['startIndex', 'number'],
    ])
    const identifier = patient.searchParam[1]!.documentation
    expect(identifier).toContain(US_MBI)
    // Off by default: not advertised.
    expect(identifier).not.toContain('mbi-hash')
    expect(identifier).not.toContain('hicn-encrypted')
  })
})

describe('log safety on these paths', () => {
  it('never writes a plaintext MBI to the access log, the audit trail, a link or an error', () => {
    expect(gw.lines.length).toBeGreaterThan(50)
    expect(gw.audit.length).toBeGreaterThan(20)
    expectNoneOf([...gw.lines, ...gw.audit], allSeededMbis())
    // Responses: a Patient names its own MBIs; nothing else (errors, links, headers) does.
    expectNoneOf(
      gw.responses.map((r) => r.headers),
      allSeededMbis(),
    )
    const notPatients = gw.responses.filter((r) => !r.body.includes('"resourceType":"Patient"'))
    expectNoneOf(
      notPatients.map((r) => r.body),
      allSeededMbis(),
    )
    const bundles = gw.responses.map((r) => JSON.parse(r.body) as FhirJson)
    const links = bundles.flatMap((b) => (b.link ?? []).map((l) => l.url))
    expect(links.length).toBeGreaterThan(30)
    expectNoneOf(links, allSeededMbis())
  })
})
