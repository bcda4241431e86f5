/**
 * Hybrid (X-Wing) tokens over HTTP: a GET search answers the Bundle, the decryption metric names
 * the KEM, and TOKEN_REQUIRE_PQ (or a partner marked `=pq`) refuses classic tokens with one
 * OperationOutcome; hostile hybrid tokens get 400s and nothing but the kid in the logs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encryptMbiHpke, encryptMbiJwe } from '@sealed-search/client'
import { createApp } from '../../src/http/app.js'
import { seed, seededBeneId, seededMbi } from '../../src/db/seed.js'
import { staticKeyRing, type KeyRing } from '../../src/keys/ring/keyring.js'
import type { HybridRingKey } from '../../src/keys/ring/hybrid-key.js'
import { createMetrics } from '../../src/metrics/index.js'
import { BASE, capturingLogger, errorCode, searchPath, type Outcome } from '../support/app.js'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { threeKeyRing } from '../support/hybrid-keys.js'

let db: TestDatabase
let ring: KeyRing
let hybrid: HybridRingKey

beforeAll(async () => {
  db = await createTestDatabase()
  await seed(db.sql, { count: 5 })
  ;({ ring, hybrid } = await threeKeyRing())
})
afterAll(() => db?.close())

function app(tokenPolicy: { requirePq?: boolean } = {}) {
  const { logger, lines } = capturingLogger()
  const metrics = createMetrics({ defaultMetrics: false })
  const gateway = createApp({
    keys: staticKeyRing(ring),
    sql: db.sql,
    logger,
    metrics,
    publicBaseUrl: BASE,
    tokenPolicy: { requireExp: false, maxLifetimeSeconds: 300, ...tokenPolicy },
  })
  return { gateway, lines, metrics }
}

const p256 = () => ring.keys.find((k) => k.crv === 'P-256')!
const x25519 = () => ring.keys.find((k) => k.crv === 'X25519')!

describe('hybrid tokens over HTTP', () => {
  it('answers a hybrid-token GET with the Bundle and counts the decryption with kem X-Wing', async () => {
    const { gateway, metrics } = app()
    const token = await encryptMbiHpke(seededMbi(1), hybrid.publicJwk)
    const res = await gateway.request(searchPath(token))
    expect(res.status).toBe(200)
    const bundle = (await res.json()) as { total: number; entry: { resource: { id: string } }[] }
    expect(bundle.total).toBe(1)
    expect(bundle.entry[0]!.resource.id).toBe(seededBeneId(1))
    const text = await metrics.registry.metrics()
    expect(text).toContain(
      `sealed_search_decryptions_total{kid="${hybrid.kid}",format="hpke",kem="X-Wing"} 1`,
    )
  })

  it('answers the same Bundle for the same token in a POST /_search body (for a proxy that refuses long URLs)', async () => {
    const { gateway } = app()
    const token = await encryptMbiHpke(seededMbi(1), hybrid.publicJwk)
    const get = (await (await gateway.request(searchPath(token))).json()) as { entry: unknown[] }
    const res = await gateway.request('/v2/fhir/Patient/_search', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        identifier: `https://bluebutton.cms.gov/resources/identifier/mbi-encrypted|${token}`,
      }).toString(),
    })
    expect(res.status).toBe(200)
    const post = (await res.json()) as { total: number; entry: unknown[] }
    expect(post.total).toBe(1)
    expect(post.entry).toEqual(get.entry)
  })

  it('labels classic decryptions with their KEM', async () => {
    const { gateway, metrics } = app()
    await gateway.request(searchPath(await encryptMbiJwe(seededMbi(2), p256().publicJwk)))
    await gateway.request(searchPath(await encryptMbiHpke(seededMbi(2), x25519().publicJwk)))
    const text = await metrics.registry.metrics()
    expect(text).toContain(`{kid="${p256().kid}",format="jwe",kem="P-256"} 1`)
    expect(text).toContain(`{kid="${x25519().kid}",format="hpke",kem="X25519"} 1`)
  })

  it('serves the X-Wing key in the JWKS in the AKP form', async () => {
    const { gateway } = app()
    const jwks = (await (await gateway.request('/.well-known/jwks.json')).json()) as {
      keys: { kty: string; kid: string; alg?: string }[]
    }
    expect(jwks.keys.map((k) => k.kty)).toEqual(['EC', 'OKP', 'AKP'])
    expect(jwks.keys[2]).toMatchObject({ kid: hybrid.kid, alg: 'X-Wing' })
  })
})

describe('TOKEN_REQUIRE_PQ', () => {
  it.each([
    ['a JWE to P-256', () => encryptMbiJwe(seededMbi(3), p256().publicJwk)],
    ['an HPKE token to X25519', () => encryptMbiHpke(seededMbi(3), x25519().publicJwk)],
  ])('refuses %s with one OperationOutcome, 400', async (_, make) => {
    const { gateway, lines } = app({ requirePq: true })
    const res = await gateway.request(searchPath(await make()))
    expect(res.status).toBe(400)
    const outcome = (await res.json()) as Outcome
    expect(outcome.resourceType).toBe('OperationOutcome')
    expect(errorCode(outcome)).toBe('ERR_TOKEN_PQ_REQUIRED')
    expect(outcome.issue[0]!.code).toBe('not-supported')
    expect(JSON.stringify(outcome) + lines.join('\n')).not.toContain(seededMbi(3))
  })

  it('still answers a hybrid token', async () => {
    const { gateway } = app({ requirePq: true })
    const token = await encryptMbiHpke(seededMbi(3), hybrid.publicJwk)
    expect((await gateway.request(searchPath(token))).status).toBe(200)
  })
})

describe('hostile hybrid tokens over HTTP', () => {
  it('answers every mangled hybrid token with a 400 OperationOutcome and logs nothing but the kid', async () => {
    const { gateway, lines } = app()
    const good = Buffer.from(await encryptMbiHpke(seededMbi(4), hybrid.publicJwk), 'base64url')
    const variants: Buffer[] = [
      good.subarray(0, 9 + 1000),
      Buffer.concat([good.subarray(0, 9 + 1120), Buffer.alloc(40), good.subarray(9 + 1120)]),
      Buffer.concat([good.subarray(0, 9), good.subarray(9, 9 + 32), good.subarray(-27)]),
      Buffer.from(good).fill(0, 9 + 1088, 9 + 1120),
      (() => {
        const b = Buffer.from(good)
        b[9 + 10]! ^= 0x80
        return b
      })(),
      (() => {
        const b = Buffer.from(good)
        b[9 + 1100]! ^= 0x01
        return b
      })(),
      (() => {
        const b = Buffer.from(good)
        b[8] = 0x01 // AES-128-GCM: not the X-Wing suite
        return b
      })(),
    ]
    for (const bytes of variants) {
      const res = await gateway.request(searchPath(bytes.toString('base64url')))
      expect(res.status).toBe(400)
      expect(((await res.json()) as Outcome).resourceType).toBe('OperationOutcome')
    }
    const logged = lines.join('\n')
    expect(logged).not.toContain(seededMbi(4))
    expect(logged).not.toMatch(/stack|Error:/)
  })
})
