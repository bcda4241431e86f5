/**
 * The load balancer's health checks do not fill the access log: a check that succeeds is
 * counted in the metrics but not logged, a failed one is logged, and LOG_HEALTH_CHECKS logs all.
 */
import { rm } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSql, type Sql } from '../../src/db/sql.js'
import { createApp } from '../../src/http/app.js'
import { staticKeyRing, type KeyRing } from '../../src/keys/ring/keyring.js'
import { createMetrics } from '../../src/metrics/index.js'
import { BASE, capturingLogger } from '../support/app.js'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { twoKeyRing } from '../support/keys.js'

let db: TestDatabase
let down: Sql
let dir: string
let ring: KeyRing
beforeAll(async () => {
  db = await createTestDatabase()
  ;({ dir, ring } = await twoKeyRing())
  // Nothing listens on port 1: readiness answers 503 ERR_DB_UNAVAILABLE.
  down = createSql({ url: 'postgres://u:p@127.0.0.1:1/none', max: 1, connectTimeoutSeconds: 1 })
})
afterAll(async () => {
  await db.close()
  await down.end({ timeout: 1 })
  await rm(dir, { recursive: true, force: true })
})

function gateway(sql: Sql, logHealthChecks?: boolean) {
  const { logger, lines } = capturingLogger()
  const metrics = createMetrics({ defaultMetrics: false })
  const app = createApp({
    keys: staticKeyRing(ring),
    sql,
    logger,
    metrics,
    publicBaseUrl: BASE,
    ...(logHealthChecks === undefined ? {} : { logHealthChecks }),
  })
  const requests = () => lines.filter((l) => JSON.parse(l).msg === 'request')
  return { app, requests, metrics }
}

describe('health checks in the access log', () => {
  it('counts a successful check but does not log it', async () => {
    const { app, requests, metrics } = gateway(db.sql)
    expect((await app.request('/health/live')).status).toBe(200)
    expect((await app.request('/health/ready')).status).toBe(200)
    expect((await app.request('/.well-known/jwks.json')).status).toBe(200)
    expect(requests().map((l) => JSON.parse(l).path)).toEqual(['/.well-known/jwks.json'])
    const text = await metrics.registry.metrics()
    expect(text).toContain('route="/health/ready",method="GET",status="200",outcome="ok"} 1')
    expect(text).toContain('route="/health/live",method="GET",status="200",outcome="ok"} 1')
  })

  it('logs a check that fails', async () => {
    const { app, requests } = gateway(down)
    expect((await app.request('/health/ready')).status).toBe(503)
    const logged = requests().map((l) => JSON.parse(l))
    expect(logged).toHaveLength(1)
    expect(logged[0]).toMatchObject({ path: '/health/ready', status: 503 })
  })

  it('logs every check with LOG_HEALTH_CHECKS', async () => {
    const { app, requests } = gateway(db.sql, true)
    await app.request('/health/live')
    await app.request('/health/ready')
    expect(requests().map((l) => JSON.parse(l).path)).toEqual(['/health/live', '/health/ready'])
  })
})
