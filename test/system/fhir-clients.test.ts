import { Client } from 'fhir-kit-client'
import smart from 'fhirclient'
import type FhirClientModule from 'fhirclient/lib/FhirClient.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chooseKey, encryptMbiJwe, fetchJwks } from '@sealed-search/client'
import { seed, seededBeneId, seededMbi } from '../../src/db/seed.js'
import { SYSTEM } from '../../src/fhir/systems.js'
import { createTestDatabase, realServer, type TestDatabase } from '../support/db.js'
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js'

// Two FHIR client libraries, as a partner's code would use them, against a real gateway process
// on a free loopback port, started once for this file: on its embedded database with 60
// synthetic beneficiaries, or, with DATABASE_URL, on a fresh schema of that server seeded with 30.

interface Bundle {
  resourceType: string
  total: number
  entry?: { resource: { resourceType: string; id: string } }[]
  link?: { relation: string; url: string }[]
}

let db: TestDatabase | undefined
let gateway: GatewayProcess | undefined
let fhirBase: string
let encrypted: (i: number) => Promise<string>

beforeAll(async () => {
  if (realServer) {
    db = await createTestDatabase()
    await seed(db.sql, { count: 30 })
  }
  gateway = await startGatewayProcess(
    db ? { DATABASE_URL: db.url, DATABASE_SCHEMA: db.schema } : {},
  )
  fhirBase = `${gateway.url}/v2/fhir`
  const key = chooseKey(await fetchJwks(`${gateway.url}/.well-known/jwks.json`), 'P-256')
  encrypted = async (i) => `${SYSTEM.mbiEncrypted}|${await encryptMbiJwe(seededMbi(i), key)}`
}, 300_000)

afterAll(async () => {
  await gateway?.stop()
  await db?.close()
})

const ids = (b: Bundle) => (b.entry ?? []).map((e) => e.resource.id)

describe('fhir-kit-client', () => {
  const client = () => new Client({ baseUrl: fhirBase })

  it('searches by an encrypted identifier', async () => {
    const bundle = (await client().search({
      resourceType: 'Patient',
      searchParams: { identifier: await encrypted(3) },
    })) as unknown as Bundle
    expect([bundle.resourceType, bundle.total, ids(bundle)]).toEqual([
      'Bundle',
      1,
      [seededBeneId(3)],
    ])
  })

  it('searches by POST with a plaintext MBI in the form body', async () => {
    const bundle = (await client().search({
      resourceType: 'Patient',
      searchParams: { identifier: `${SYSTEM.mbi}|${seededMbi(4)}` },
      options: { postSearch: true },
    })) as unknown as Bundle
    expect(ids(bundle)).toEqual([seededBeneId(4)])
  })

  it('reads a Patient', async () => {
    const patient = (await client().read({
      resourceType: 'Patient',
      id: seededBeneId(5),
    })) as unknown as {
      id: string
      meta: { profile: string[] }
    }
    expect(patient.id).toBe(seededBeneId(5))
    expect(patient.meta.profile).toEqual([
      'http://hl7.org/fhir/us/carin-bb/StructureDefinition/C4BB-Patient',
    ])
  })

  it('pages by the Bundle links: from a page past the end back to the result', async () => {
    const past = (await client().search({
      resourceType: 'Patient',
      searchParams: { _id: seededBeneId(6), _count: '1', startIndex: '1' },
    })) as unknown as Bundle
    expect([past.total, ids(past)]).toEqual([1, []])
    const previous = (await client().prevPage({ bundle: past as never })) as unknown as Bundle
    expect(ids(previous)).toEqual([seededBeneId(6)])
    expect(previous.link!.some((l) => l.relation === 'next')).toBe(false)
  })
})

describe('SMART fhirclient (FhirClient)', () => {
  // The library's node entry point carries the plain client (no SMART launch) as a property.
  const { FhirClient: Plain } = smart as unknown as { FhirClient: typeof FhirClientModule.default }
  const client = () => new Plain(fhirBase)

  it('searches by an encrypted identifier', async () => {
    const q = new URLSearchParams({ identifier: await encrypted(7) })
    const bundle = await client().fhirRequest<Bundle>(`Patient?${q}`)
    expect([bundle.total, ids(bundle)]).toEqual([1, [seededBeneId(7)]])
  })

  it('searches by POST _search with a form body', async () => {
    const bundle = await client().fhirRequest<Bundle>('Patient/_search', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ identifier: `${SYSTEM.mbi}|${seededMbi(8)}` }).toString(),
    })
    expect(ids(bundle)).toEqual([seededBeneId(8)])
  })

  it('reads a Patient', async () => {
    const patient = await client().fhirRequest<{ id: string }>(`Patient/${seededBeneId(9)}`)
    expect(patient.id).toBe(seededBeneId(9))
  })

  it('pages with pages(), following the links the gateway gives', async () => {
    const pages: Bundle[] = []
    for await (const page of client().pages(
      `${fhirBase}/Patient?_id=${seededBeneId(10)}&_count=1`,
    )) {
      pages.push(page as unknown as Bundle)
    }
    expect(pages.map(ids)).toEqual([[seededBeneId(10)]])
    const past = await client().fhirRequest<Bundle>(
      `Patient?_id=${seededBeneId(10)}&_count=1&startIndex=1`,
    )
    const back = past.link!.find((l: { relation: string }) => l.relation === 'previous')!.url
    expect(ids(await client().fhirRequest<Bundle>(back))).toEqual([seededBeneId(10)])
  })

  it('rejects on an OperationOutcome: a read of a bene_id nobody has is 404', async () => {
    await expect(client().fhirRequest('Patient/42')).rejects.toMatchObject({ status: 404 })
  })
})
