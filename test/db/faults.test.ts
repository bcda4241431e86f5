import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encryptMbiJwe } from '@sealed-search/client'
import { seed, seededBeneId, seededMbi } from '../../src/db/seed.js'
import { createSql, type Sql } from '../../src/db/sql.js'
import { createApp } from '../../src/http/app.js'
import { staticKeyRing } from '../../src/keys/ring/keyring.js'
import type { RingKey } from '../../src/keys/ring/ring-key.js'
import { capturingLogger, errorCode, searchPath, type Outcome } from '../support/app.js'
import { createTestDatabase, realServer, type TestDatabase } from '../support/db.js'
import { twoKeyRing } from '../support/keys.js'
import { faultProxy, type FaultProxy } from '../support/proxy.js'

let db: TestDatabase
let proxy: FaultProxy
let sql: Sql
let key: RingKey
let app: ReturnType<typeof createApp>

beforeAll(async () => {
  db = await createTestDatabase()
  await seed(db.sql, { count: 10 })
  // The embedded database serves one connection: hand it over to the gateway's pool.
  if (!realServer) await db.sql.end()
  const target = new URL(db.url)
  proxy = await faultProxy(target.hostname, Number(target.port))
  const proxied = new URL(db.url)
  proxied.hostname = '127.0.0.1'
  proxied.port = String(proxy.port)
  sql = createSql({
    url: proxied.toString(),
    max: 2,
    connectTimeoutSeconds: 1,
    ...(db.schema ? { searchPath: db.schema } : {}),
  })
  const { ring } = await twoKeyRing()
  key = ring.active()[0]!
  app = createApp({
    keys: staticKeyRing(ring),
    sql,
    logger: capturingLogger().logger,
    publicBaseUrl: 'http://gw.test',
    dbQueryTimeoutMs: 1500,
  })
})
afterAll(async () => {
  await sql?.end({ timeout: 1 })
  await proxy?.close()
  await db?.close()
})

async function search() {
  const res = await app.request(searchPath(await encryptMbiJwe(seededMbi(3), key.publicJwk)))
  return {
    res,
    body: (await res.json()) as Outcome & {
      total?: number
      entry?: { resource: { id: string } }[]
    },
  }
}

describe(`database faults (${realServer ? 'PostgreSQL server' : 'embedded'} behind a proxy)`, () => {
  it('serves while the database is reachable', async () => {
    const { res, body } = await search()
    expect(res.status).toBe(200)
    expect(body.entry![0]!.resource.id).toBe(seededBeneId(3))
  })

  it('answers 503 with Retry-After when connections are refused', async () => {
    proxy.setMode('refuse')
    const { res, body } = await search()
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBe('5')
    expect(errorCode(body)).toBe('ERR_DB_UNAVAILABLE')
  })

  it('answers 503 instead of hanging when the database stops answering', async () => {
    proxy.setMode('blackhole')
    const { res, body } = await search()
    expect(res.status).toBe(503)
    expect(errorCode(body)).toBe('ERR_DB_UNAVAILABLE')
    expect(JSON.stringify(body)).not.toContain(seededMbi(3))
  })

  it('serves again, without a restart, once the database is back', async () => {
    proxy.setMode('pass')
    let status = 0
    for (let attempt = 0; attempt < 20 && status !== 200; attempt++) {
      status = (await search()).res.status
      if (status !== 200) await new Promise((r) => setTimeout(r, 250))
    }
    expect(status).toBe(200)
  })
})
