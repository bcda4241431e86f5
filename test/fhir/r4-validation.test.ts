import { Fhir } from 'fhir'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encryptMbiJwe } from '@sealed-search/client'
import { AMBIGUOUS_MBI, seed, seededBeneId, seededMbi } from '../../src/db/seed.js'
import type { KeyRing } from '../../src/keys/ring/keyring.js'
import type { RingKey } from '../../src/keys/ring/ring-key.js'
import { searchPath, testApp } from '../support/app.js'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { twoKeyRing } from '../support/keys.js'
import { post, SEARCH, US_MBI } from '../support/parity.js'

// Every kind of response the gateway gives, checked against the FHIR R4 structure definitions
// by an independent validator (the `fhir` package, FHIR.js): element names and types,
// cardinality, required elements and required value sets. Unknown elements are errors.

const fhir = new Fhir()

let db: TestDatabase
let ring: KeyRing
let p256: RingKey
let app: ReturnType<typeof testApp>['app']

beforeAll(async () => {
  db = await createTestDatabase()
  await seed(db.sql, { count: 60 })
  ring = (await twoKeyRing()).ring
  p256 = ring.keys.find((k) => k.crv === 'P-256')!
  ;({ app } = testApp(ring, db.sql))
})
afterAll(() => db?.close())

function errors(resource: unknown) {
  const result = fhir.validate(resource as object, { errorOnUnexpected: true })
  return result.messages?.filter((m) => m.severity === 'error') ?? []
}

const token = (mbi: string) => encryptMbiJwe(mbi, p256.publicJwk)

describe('FHIR R4 validation (FHIR.js) of every response kind', () => {
  it('catches an invalid resource, so a pass means something', () => {
    expect(errors({ resourceType: 'Patient', gender: 'bogus' })).not.toEqual([])
    expect(errors({ resourceType: 'Bundle', type: 'searchset', entries: [] })).not.toEqual([])
  })

  const cases: [string, () => Promise<[string, RequestInit?]>, number, string][] = [
    ['a Patient read', async () => [`/v2/fhir/Patient/${seededBeneId(20)}`], 200, 'Patient'],
    [
      'a deceased Patient read',
      async () => [`/v2/fhir/Patient/${seededBeneId(49)}`],
      200,
      'Patient',
    ],
    [
      'a Patient read with IncludeAddressFields',
      async () => [
        `/v2/fhir/Patient/${seededBeneId(20)}`,
        { headers: { IncludeAddressFields: 'true' } },
      ],
      200,
      'Patient',
    ],
    [
      'a searchset by identifier',
      async () => [searchPath(await token(seededMbi(20)))],
      200,
      'Bundle',
    ],
    [
      'a searchset by _id, paged',
      async () => [`/v2/fhir/Patient/?_id=${seededBeneId(5)}&_count=1&startIndex=1`],
      200,
      'Bundle',
    ],
    ['an empty searchset', async () => [`/v2/fhir/Patient?_id=42`], 200, 'Bundle'],
    [
      '_summary=count',
      async () => [`/v2/fhir/Patient?_id=${seededBeneId(5)}&_summary=count`],
      200,
      'Bundle',
    ],
    [
      'a POST searchset by plaintext MBI',
      async () => [SEARCH, post({ identifier: `${US_MBI}|${seededMbi(7)}` })],
      200,
      'Bundle',
    ],
    ['the CapabilityStatement', async () => ['/v2/fhir/metadata'], 200, 'CapabilityStatement'],
    [
      'a 400 OperationOutcome',
      async () => ['/v2/fhir/Patient?identifier=x'],
      400,
      'OperationOutcome',
    ],
    ['a 404 OperationOutcome', async () => ['/v2/fhir/Patient/42'], 404, 'OperationOutcome'],
    [
      'a 405 OperationOutcome',
      async () => ['/v2/fhir/Patient', { method: 'DELETE' }],
      405,
      'OperationOutcome',
    ],
    [
      'a 406 OperationOutcome',
      async () => ['/v2/fhir/Patient?_id=1&_format=xml'],
      406,
      'OperationOutcome',
    ],
    [
      'a 409 OperationOutcome',
      async () => [searchPath(await token(AMBIGUOUS_MBI))],
      409,
      'OperationOutcome',
    ],
    [
      'a 415 OperationOutcome',
      async () => [
        SEARCH,
        { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'x' },
      ],
      415,
      'OperationOutcome',
    ],
  ]

  it.each(cases)('%s is valid R4', async (_what, request, status, resourceType) => {
    const [path, init] = await request()
    const res = await app.request(path, init)
    expect(res.status).toBe(status)
    const body = (await res.json()) as { resourceType: string }
    expect(body.resourceType).toBe(resourceType)
    expect(errors(body)).toEqual([])
  })
})
