/**
 * The log mask works on what is logged after percent-decoding: an identifier a client puts in
 * the path, the query or X-Request-Id, in any spelling (percent-encoded characters, encoded
 * spaces, `+`, lower case, dashes), never reaches the access log or the audit trail, and an
 * identifier-shaped request id is replaced.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seed, seededHicn, seededMbi } from '../../src/db/seed.js'
import { decodeForLog } from '../../src/log/mask.js'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { twoKeyRing } from '../support/keys.js'
import { parityApp, US_MBI } from '../support/parity.js'

let db: TestDatabase
let gw: ReturnType<typeof parityApp>
beforeAll(async () => {
  db = await createTestDatabase()
  await seed(db.sql, { count: 10 })
  gw = parityApp((await twoKeyRing()).ring, db.sql, { hicnSearch: true })
})
afterAll(() => db?.close())

const MBI = seededMbi(7)
const HICN = seededHicn(7)!
const encodeAll = (s: string) => [...s].map((c) => `%${c.charCodeAt(0).toString(16)}`).join('')

/** Every way the identifiers can be written down, as the tests look for them in the output. */
function spellings(): string[] {
  const forms = (m: string) => {
    const dashed = `${m.slice(0, 4)}-${m.slice(4, 7)}-${m.slice(7)}`
    const spaced = dashed.replace(/-/g, ' ')
    return [m, dashed, spaced]
  }
  const hicnForms = [HICN, `${HICN.slice(0, 3)}-${HICN.slice(3, 5)}-${HICN.slice(5)}`]
  return [...forms(MBI), ...forms(MBI.toLowerCase()), ...hicnForms, HICN.toLowerCase()]
}

const dashed = `${MBI.slice(0, 4)}-${MBI.slice(4, 7)}-${MBI.slice(7)}`
const CORPUS: { path: string; requestId?: string }[] = [
  { path: `/v2/fhir/Patient?identifier=${US_MBI}%7C%31${MBI.slice(1)}` },
  { path: `/v2/fhir/Patient?identifier=${US_MBI}%7C${encodeAll(MBI)}` },
  { path: `/v2/fhir/Patient?identifier=${US_MBI}%7C${dashed.replace(/-/g, '%20')}` },
  { path: `/v2/fhir/Patient?identifier=${US_MBI}%7C${dashed.replace(/-/g, '+')}` },
  { path: `/v2/fhir/Patient?identifier=${encodeAll(MBI.toLowerCase())}` },
  { path: `/v2/fhir/Patient/%31${MBI.slice(1)}` },
  { path: `/v2/fhir/Patient/${encodeAll(dashed)}` },
  { path: `/v2/fhir/Patient?%31${MBI.slice(1)}=1` },
  { path: `/v2/fhir/Patient?_id=${HICN.slice(0, 3)}%20${HICN.slice(3, 5)}%20${HICN.slice(5)}` },
  { path: '/v2/fhir/metadata', requestId: MBI },
  { path: '/v2/fhir/metadata', requestId: `req-${MBI.toLowerCase()}` },
  { path: '/v2/fhir/metadata', requestId: `trace${MBI}x` },
  { path: '/v2/fhir/metadata', requestId: HICN },
  { path: `/v2/fhir/Patient?identifier=${US_MBI}%7Cx`, requestId: dashed },
]

describe('identifiers in the request line and headers, in every spelling', () => {
  it('reach neither the access log nor the audit trail, decoded or not', async () => {
    const ids: string[] = []
    for (const { path, requestId } of CORPUS) {
      const r = await gw.request(path, requestId ? { headers: { 'X-Request-Id': requestId } } : {})
      expect(r.status).toBeLessThan(500)
      ids.push(r.res.headers.get('X-Request-Id') ?? '')
    }
    const logged = [...gw.lines, ...gw.audit]
    expect(gw.lines.filter((l) => l.includes('"msg":"request"')).length).toBe(CORPUS.length)
    const text = decodeForLog(logged.join('\n'), { query: true })
    for (const s of spellings()) {
      expect(text).not.toContain(s)
      expect(ids.join('\n')).not.toContain(s)
    }
    for (const id of ids) expect(id).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('keeps a plain request id the client sent', async () => {
    const r = await gw.request('/v2/fhir/metadata', { headers: { 'X-Request-Id': 'abc-123' } })
    expect(r.res.headers.get('X-Request-Id')).toBe('abc-123')
    expect(gw.lines.at(-1)).toContain('"requestId":"abc-123"')
  })
})
