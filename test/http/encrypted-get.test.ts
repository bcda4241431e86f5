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
import { syntheticMbi } from '../../src/identifiers/synthetic.js'
import type { KeyRing } from '../../src/keys/ring/keyring.js'
import type { RingKey } from '../../src/keys/ring/ring-key.js'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { twoKeyRing } from '../support/keys.js'
import { BASE, errorCode, searchPath, testApp, type Outcome } from '../support/app.js'
import { flipBit, reheader } from '../support/tokens.js'

let db: TestDatabase
let ring: KeyRing
let p256: RingKey
let app: ReturnType<typeof testApp>['app']
let lines: string[]

beforeAll(async () => {
  db = await createTestDatabase()
  await seed(db.sql, { count: 100 })
  ring = (await twoKeyRing()).ring
  p256 = ring.keys.find((k) => k.crv === 'P-256')!
  ;({ app, lines } = testApp(ring, db.sql))
})
afterAll(() => db?.close())

async function search(mbi: string, key = p256) {
  const res = await app.request(searchPath(await encryptMbiJwe(mbi, key.publicJwk)))
  return { res, body: (await res.json()) as Record<string, unknown> }
}

async function failure(path: string, init?: RequestInit) {
  const res = await app.request(path, init)
  const body = (await res.json()) as Outcome
  expect(res.headers.get('content-type')).toMatch(/^application\/fhir\+json/)
  expect(body.resourceType).toBe('OperationOutcome')
  return { status: res.status, code: errorCode(body), body, text: JSON.stringify(body) }
}

describe('GET /v2/fhir/Patient with an encrypted identifier', () => {
  it('returns a searchset Bundle with the one matching Patient', async () => {
    const { res, body } = await search(seededMbi(3))
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^application\/fhir\+json/)
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(body).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 1 })
    const entry = (body.entry as { resource: { id: string }; fullUrl: string }[])[0]!
    expect(entry.resource.id).toBe(seededBeneId(3))
    expect(entry.fullUrl).toBe(`${BASE}/v2/fhir/Patient/${seededBeneId(3)}`)
    expect(typeof (body.meta as { lastUpdated: string }).lastUpdated).toBe('string')
  })

  it('accepts the | raw as well as %7C', async () => {
    const token = await encryptMbiJwe(seededMbi(4), p256.publicJwk)
    const res = await app.request(searchPath(token, '|'))
    expect(res.status).toBe(200)
    expect(((await res.json()) as { total: number }).total).toBe(1)
  })

  it('puts only the ciphertext in the self link', async () => {
    const token = await encryptMbiJwe(seededMbi(3), p256.publicJwk)
    const body = (await (await app.request(searchPath(token))).json()) as {
      link: { url: string }[]
    }
    expect(body.link[0]!.url).toBe(`${BASE}${searchPath(token)}`)
    expect(body.link[0]!.url).not.toContain(seededMbi(3))
  })

  it('returns an empty Bundle with total 0 when nobody has the MBI', async () => {
    const { res, body } = await search(syntheticMbi(123_456_789))
    expect(res.status).toBe(200)
    expect(body).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 0 })
    expect(body.entry).toBeUndefined()
  })

  it('finds the beneficiary by a historical MBI', async () => {
    const { body } = await search(seededHistoricMbi(20)!)
    expect(body.total).toBe(1)
    expect((body.entry as { resource: { id: string } }[])[0]!.resource.id).toBe(seededBeneId(20))
  })

  it('answers 409 multiple-matches for an ambiguous MBI and names neither beneficiary', async () => {
    const token = await encryptMbiJwe(AMBIGUOUS_MBI, p256.publicJwk)
    const f = await failure(searchPath(token))
    expect(f.status).toBe(409)
    expect(f.body.issue[0]!.code).toBe('multiple-matches')
    expect(f.code).toBe('ERR_MULTIPLE_MATCHES')
    for (const id of [...AMBIGUOUS_BENE_IDS, AMBIGUOUS_MBI]) expect(f.text).not.toContain(id)
  })

  it('shapes the Patient as BFD does', async () => {
    const { body } = await search(seededMbi(10))
    const patient = (body.entry as { resource: Record<string, unknown> }[])[0]!.resource
    expect(patient).toMatchObject({
      resourceType: 'Patient',
      id: seededBeneId(10),
      name: [{ use: 'usual', family: expect.any(String), given: expect.any(Array) }],
      gender: 'female',
      birthDate: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
      deceasedBoolean: false,
      address: [{ state: expect.any(String), postalCode: expect.any(String) }],
      meta: {
        lastUpdated: expect.any(String),
        profile: ['http://hl7.org/fhir/us/carin-bb/StructureDefinition/C4BB-Patient'],
      },
    })
    const identifiers = patient.identifier as Record<string, unknown>[]
    expect(identifiers[0]).toMatchObject({
      type: {
        coding: [
          {
            system: 'http://terminology.hl7.org/CodeSystem/v2-0203',
            code: 'MB',
            display: 'Member Number',
          },
        ],
      },
      system: 'https://bluebutton.cms.gov/resources/variables/bene_id',
      value: seededBeneId(10),
    })
    // BFD's v2 shape: the currency extension inside type.coding[0]; a historic MBI has no period.
    const currency = (i: Record<string, unknown>) =>
      (i.type as { coding: { extension: { valueCoding: { code: string } }[] }[] }).coding[0]!
        .extension[0]!.valueCoding.code
    const mbis = identifiers.filter((i) => i.system === 'http://hl7.org/fhir/sid/us-mbi')
    expect(mbis.map((i) => [i.value, currency(i)])).toEqual([
      [seededMbi(10), 'current'],
      [seededHistoricMbi(10), 'historic'],
    ])
    expect(mbis[0]).toMatchObject({
      type: {
        coding: [
          {
            system: 'http://terminology.hl7.org/CodeSystem/v2-0203',
            code: 'MC',
            extension: [
              { url: 'https://bluebutton.cms.gov/resources/codesystem/identifier-currency' },
            ],
          },
        ],
      },
      period: { start: '2020-01-01' },
    })
    expect(mbis[0]).not.toHaveProperty('extension')
    expect(mbis[1]).not.toHaveProperty('period')
  })

  it('gives a deceased beneficiary deceasedDateTime and a middle initial as a given name', async () => {
    const { body } = await search(seededMbi(49))
    const patient = (body.entry as { resource: Record<string, unknown> }[])[0]!.resource
    expect(patient.deceasedDateTime).toBe('2023-06-30')
    expect((patient.name as { given: string[] }[])[0]!.given).toHaveLength(2)
  })
})

describe('errors are OperationOutcomes that leak nothing', () => {
  it.each([
    ['no identifier', '/v2/fhir/Patient', 400, 'ERR_PARAM_MISSING'],
    [
      'an identifier without a system',
      '/v2/fhir/Patient?identifier=abc',
      400,
      'ERR_IDENTIFIER_MALFORMED',
    ],
    [
      'an unknown system',
      '/v2/fhir/Patient?identifier=urn:x|abc',
      400,
      'ERR_IDENTIFIER_SYSTEM_UNSUPPORTED',
    ],
    [
      'an unknown parameter',
      '/v2/fhir/Patient?identifier=urn:x|a&name=x',
      400,
      'ERR_PARAM_UNSUPPORTED',
    ],
    ['a repeated identifier', `${searchPath('a')}&identifier=b`, 400, 'ERR_PARAM_REPEATED'],
    ['_format=xml', `${searchPath('a')}&_format=xml`, 406, 'ERR_FORMAT_UNSUPPORTED'],
    ['a garbage token', searchPath('a.b.c.d.e'), 400, 'ERR_TOKEN_MALFORMED'],
    ['an oversized token', searchPath('a'.repeat(1500)), 400, 'ERR_TOKEN_TOO_LONG'],
    ['an oversized identifier', searchPath('a'.repeat(3000)), 400, 'ERR_IDENTIFIER_MALFORMED'],
    ['an unknown route', '/v2/fhir/Observation', 404, 'ERR_NOT_FOUND'],
    ['the root', '/', 404, 'ERR_NOT_FOUND'],
  ])('answers %s with %i %s', async (_what, path, status, code) => {
    const f = await failure(path)
    expect([f.status, f.code]).toEqual([status, code])
    expect(f.text).not.toMatch(/at .*\.ts:\d+/) // no stack trace
  })

  it('refuses a plaintext MBI in a GET URL without echoing it', async () => {
    const mbi = seededMbi(2)
    const f = await failure(`/v2/fhir/Patient?identifier=http://hl7.org/fhir/sid/us-mbi|${mbi}`)
    expect([f.status, f.code]).toEqual([400, 'ERR_PLAINTEXT_IN_URL'])
    expect(f.body.issue[0]!.diagnostics).toMatch(/only supported in POST/)
    expect(f.text).not.toContain(mbi)
  })

  it('answers 405 with Allow for another method on a known path', async () => {
    const res = await app.request('/v2/fhir/Patient', { method: 'DELETE' })
    expect(res.status).toBe(405)
    expect(res.headers.get('allow')).toBe('GET, HEAD')
    expect(errorCode((await res.json()) as Outcome)).toBe('ERR_METHOD_NOT_ALLOWED')
  })

  it('answers an unknown kid telling the partner to fetch the JWKS', async () => {
    const token = reheader(
      await encryptMbiJwe(seededMbi(1), p256.publicJwk),
      (h) => (h.kid = 'gone'),
    )
    const f = await failure(searchPath(token))
    expect([f.status, f.code]).toEqual([400, 'ERR_TOKEN_KID_UNKNOWN'])
    expect(f.body.issue[0]!.diagnostics).toContain('/.well-known/jwks.json')
  })

  it('answers a tampered token with the uniform "decryption failed" and no token fragment', async () => {
    const token = flipBit(await encryptMbiJwe(seededMbi(1), p256.publicJwk), 3, 2)
    const f = await failure(searchPath(token))
    expect([f.status, f.code]).toEqual([400, 'ERR_TOKEN_DECRYPTION_FAILED'])
    expect(f.body.issue[0]!.diagnostics).toBe('decryption failed')
    for (const part of token.split('.').filter((p) => p.length > 8))
      expect(f.text).not.toContain(part)
  })

  it('answers a well-encrypted non-MBI with 400 and does not echo it', async () => {
    const { jweFor } = await import('../support/tokens.js')
    const f = await failure(searchPath(await jweFor(p256, 'ZZ-not-an-mbi')))
    expect([f.status, f.code]).toEqual([400, 'ERR_TOKEN_IDENTIFIER_INVALID'])
    expect(f.text).not.toContain('not-an-mbi')
  })
})

describe('GET /v2/fhir/metadata', () => {
  it('returns a CapabilityStatement describing read and the search parameters', async () => {
    const res = await app.request('/v2/fhir/metadata')
    expect(res.status).toBe(200)
    const cs = (await res.json()) as {
      resourceType: string
      fhirVersion: string
      rest: {
        resource: {
          type: string
          interaction: { code: string }[]
          searchParam: { name: string }[]
        }[]
      }[]
    }
    expect(cs.resourceType).toBe('CapabilityStatement')
    expect(cs.fhirVersion).toBe('4.0.1')
    const [patient] = cs.rest[0]!.resource
    expect(patient!.type).toBe('Patient')
    expect(patient!.interaction.map((i) => i.code)).toEqual(['read', 'search-type'])
    expect(patient!.searchParam.map((p) => p.name)).toEqual([
      '_id',
      'identifier',
      '_lastUpdated',
      '_count',
      'startIndex',
    ])
  })
})

describe('GET /.well-known/jwks.json', () => {
  it('serves the active public keys with Cache-Control and an ETag, and no private member', async () => {
    const res = await app.request('/.well-known/jwks.json')
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('public, max-age=300')
    const etag = res.headers.get('etag')
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/)
    const text = await res.text()
    const jwks = JSON.parse(text) as { keys: Record<string, unknown>[] }
    expect(jwks.keys.map((k) => k.kid).sort()).toEqual(ring.keys.map((k) => k.kid).sort())
    for (const k of jwks.keys) {
      // hpke_key_id: the number HPKE tokens name the key by (docs/TOKENS.md; RFC 7517 §4).
      const members = ['crv', 'hpke_key_id', 'kid', 'kty', 'use', 'x']
      expect(Object.keys(k).sort()).toEqual(k.kty === 'EC' ? [...members, 'y'] : members)
      expect(k.hpke_key_id).toEqual(ring.get(k.kid as string)!.hpkeKeyId)
    }
    expect(text).not.toMatch(/"d"/)
    const again = await app.request('/.well-known/jwks.json', {
      headers: { 'If-None-Match': etag! },
    })
    expect(again.status).toBe(304)
  })
})

describe('the access log', () => {
  it('writes one line per request with the query percent-decoded and no plaintext MBI', async () => {
    const before = lines.length
    const token = await encryptMbiJwe(seededMbi(6), p256.publicJwk)
    await app.request(searchPath(token), { headers: { 'X-Request-Id': 'req-123' } })
    const line = JSON.parse(lines.at(-1)!) as Record<string, unknown>
    expect(lines.length).toBe(before + 1)
    expect(line).toMatchObject({
      msg: 'request',
      requestId: 'req-123',
      method: 'GET',
      path: '/v2/fhir/Patient',
      query: `?identifier=https://bluebutton.cms.gov/resources/identifier/mbi-encrypted|${token}`,
      status: 200,
      search: { format: 'jwe', kid: p256.kid, results: 1 },
    })
    expect(lines.join('\n')).not.toContain(seededMbi(6))
  })

  it('masks a plaintext MBI that a partner put in a URL by mistake', async () => {
    const mbi = seededMbi(8)
    await app.request(
      `/v2/fhir/Patient?identifier=http://hl7.org/fhir/sid/us-mbi%7C${mbi.toLowerCase()}`,
    )
    const line = lines.at(-1)!
    expect(line.toUpperCase()).not.toContain(mbi)
    expect(line).toContain('***MBI***')
  })
})
