import { createHmac } from 'node:crypto'
import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encryptMbiJwe } from '@sealed-search/client'
import { AMBIGUOUS_MBI, seed, seededBeneId, seededMbi } from '../../src/db/seed.js'
import { createApp } from '../../src/http/app.js'
import { syntheticMbi } from '../../src/identifiers/synthetic.js'
import { staticKeyRing } from '../../src/keys/ring/keyring.js'
import type { RingKey } from '../../src/keys/ring/ring-key.js'
import { createAudit } from '../../src/log/audit.js'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { twoKeyRing } from '../support/keys.js'
import { capturingLogger, searchPath } from '../support/app.js'
import { flipBit } from '../support/tokens.js'

const HMAC_KEY = Buffer.alloc(32, 7)
let db: TestDatabase
let key: RingKey
let app: ReturnType<typeof createApp>
const records: Record<string, unknown>[] = []
const auditLines: string[] = []

beforeAll(async () => {
  db = await createTestDatabase()
  await seed(db.sql, { count: 30 })
  const { ring } = await twoKeyRing()
  key = ring.active()[0]!
  const sink = new Writable({
    write(chunk: Buffer, _e, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        auditLines.push(line)
        records.push(JSON.parse(line) as Record<string, unknown>)
      }
      done()
    },
  })
  app = createApp({
    keys: staticKeyRing(ring),
    sql: db.sql,
    logger: capturingLogger().logger,
    publicBaseUrl: 'http://gw.test',
    audit: createAudit(sink, HMAC_KEY),
  })
})
afterAll(() => db?.close())

const fingerprint = (mbi: string) => createHmac('sha256', HMAC_KEY).update(mbi).digest('hex')

async function searchFor(mbi: string, headers: Record<string, string> = {}) {
  const res = await app.request(searchPath(await encryptMbiJwe(mbi, key.publicJwk)), { headers })
  await res.arrayBuffer()
  await new Promise((r) => setTimeout(r, 20)) // pino writes asynchronously
  return records.at(-1)!
}

describe('the audit trail', () => {
  it('records a search: request id, client, format, kid, outcome, bene_ids and a full HMAC of the MBI', async () => {
    const record = await searchFor(seededMbi(4), { 'X-Request-Id': 'audit-1' })
    expect(record).toMatchObject({
      log: 'audit',
      event: 'search',
      requestId: 'audit-1',
      format: 'jwe',
      kid: key.kid,
      outcome: 'match',
      results: 1,
      beneIds: [seededBeneId(4)],
      mbiFingerprint: fingerprint(seededMbi(4)),
    })
    expect(record.mbiFingerprint).toMatch(/^[0-9a-f]{64}$/) // 256 bits: never truncated
    expect(typeof record.time).toBe('string')
  })

  it('gives the same beneficiary the same fingerprint and another one a different one', async () => {
    const a = (await searchFor(seededMbi(5))).mbiFingerprint
    const b = (await searchFor(seededMbi(5))).mbiFingerprint
    const c = (await searchFor(seededMbi(6))).mbiFingerprint
    expect(a).toBe(b)
    expect(a).not.toBe(c)
  })

  it('records searches that find no one, ambiguous ones and refused tokens', async () => {
    expect(await searchFor(syntheticMbi(987_654))).toMatchObject({
      outcome: 'no_match',
      results: 0,
      beneIds: [],
    })
    expect(await searchFor(AMBIGUOUS_MBI)).toMatchObject({
      outcome: 'ERR_MULTIPLE_MATCHES',
      beneIds: [],
    })
    const bad = flipBit(await encryptMbiJwe(seededMbi(1), key.publicJwk), 4, 3)
    await (await app.request(searchPath(bad))).arrayBuffer()
    await new Promise((r) => setTimeout(r, 20))
    expect(records.at(-1)).toMatchObject({ outcome: 'ERR_TOKEN_DECRYPTION_FAILED', results: 0 })
    expect(records.at(-1)!.mbiFingerprint).toBeUndefined()
  })

  it('separates the fingerprints of other identifier kinds from MBI fingerprints', () => {
    const audit = createAudit(new Writable({ write: (_c, _e, done) => done() }), HMAC_KEY)
    const value = '900000001A'
    expect(audit.fingerprint(value, 'hicn')).toBe(
      createHmac('sha256', HMAC_KEY).update(`hicn:${value}`).digest('hex'),
    )
    expect(audit.fingerprint(value, 'hicn')).not.toBe(audit.fingerprint(value))
    expect(audit.fingerprint(value, 'mbi-hash')).not.toBe(audit.fingerprint(value, 'hicn'))
  })

  it('writes no record for requests that are not searches', async () => {
    const before = records.length
    await (await app.request('/v2/fhir/metadata')).arrayBuffer()
    await new Promise((r) => setTimeout(r, 20))
    expect(records.length).toBe(before)
  })

  it('never holds a plaintext MBI', () => {
    const all = auditLines.join('\n')
    for (const i of [1, 4, 5, 6]) expect(all).not.toContain(seededMbi(i))
    expect(all).not.toContain(AMBIGUOUS_MBI)
  })
})
