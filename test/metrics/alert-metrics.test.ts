/**
 * The metrics the alerting rules (docs/deploy/prometheus/) read beyond requests and decryptions:
 * each key's notAfter, since when the key store has been unreadable, tokens that did not open
 * per client, reads moved off a read host, and the legacy path's sunset.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase } from '../../src/db/connect.js'
import { createApp } from '../../src/http/app.js'
import type { KeyRing } from '../../src/keys/ring/keyring.js'
import { createMetrics } from '../../src/metrics/index.js'
import { BASE, capturingLogger, searchPath } from '../support/app.js'
import { createTestDatabase, realServer, type TestDatabase } from '../support/db.js'
import { twoKeyRing } from '../support/keys.js'
import { staticKeyRing } from '../../src/keys/ring/keyring.js'
import { rm } from 'node:fs/promises'

const text = async (m: ReturnType<typeof createMetrics>) => m.registry.metrics()

describe('metrics for the alerting rules', () => {
  let db: TestDatabase
  let dir: string
  let ring: KeyRing
  beforeAll(async () => {
    db = await createTestDatabase()
    ;({ dir, ring } = await twoKeyRing())
  })
  afterAll(async () => {
    await db.close()
    await rm(dir, { recursive: true, force: true })
  })

  it("exports each key's notAfter, for the keys that have one", async () => {
    const metrics = createMetrics({ defaultMetrics: false })
    const [a, b] = ring.keys
    const retiring = { ...a!, state: 'retiring' as const, notAfter: '2026-06-02T00:00:00.000Z' }
    metrics.observeRing(
      { keys: [retiring, b!], hybridKeys: [] } as unknown as KeyRing,
      new Date('2026-06-01'),
    )
    const out = await text(metrics)
    expect(out).toContain(`sealed_search_key_not_after_seconds{kid="${a!.kid}"} 1780358400`)
    expect(out).not.toContain(`sealed_search_key_not_after_seconds{kid="${b!.kid}"}`)
    metrics.observeRing(ring)
    expect(await text(metrics)).not.toContain(`sealed_search_key_not_after_seconds{kid=`)
  })

  it('exports since when the key store has been unreadable, and 0 once it is read again', async () => {
    const metrics = createMetrics({ defaultMetrics: false })
    const name = 'sealed_search_key_store_unreadable_since_seconds'
    expect(await text(metrics)).toContain(`${name} 0`)
    const since = new Date('2026-06-01T00:00:00Z')
    metrics.observeRingStatus({ lastGoodLoad: undefined, staleSince: since, errors: ['ERR_X'] })
    expect(await text(metrics)).toContain(`${name} 1780272000`)
    metrics.observeRingStatus({ lastGoodLoad: new Date(), staleSince: undefined, errors: [] })
    expect(await text(metrics)).toContain(`${name} 0`)
  })

  it('counts tokens that do not open by client and code, never by what the client sent', async () => {
    const metrics = createMetrics({ defaultMetrics: false })
    const { logger } = capturingLogger()
    const app = createApp({
      keys: staticKeyRing(ring),
      sql: db.sql,
      logger,
      publicBaseUrl: BASE,
      metrics,
    })
    const res = await app.request(searchPath('not-a-token'))
    expect(res.status).toBe(400)
    const out = await text(metrics)
    const line = out.split('\n').find((l) => l.startsWith('sealed_search_token_failures_total{'))
    expect(line).toMatch(
      /^sealed_search_token_failures_total\{client="[^"]*",code="ERR_[A-Z_]+"\} 1$/,
    )
    expect(out).not.toContain('not-a-token')
  })

  it.runIf(realServer)(
    'counts a read moved off a read host that cannot be reached (needs DATABASE_URL)',
    async () => {
      const url = new URL(process.env.DATABASE_URL!)
      const up = `${url.hostname}:${url.port || 5432}`
      const readUrl = `postgres://${url.username}:${url.password}@127.0.0.1:1,${up}${url.pathname}`
      const metrics = createMetrics({ defaultMetrics: false })
      const database = await openDatabase(
        {
          url: process.env.DATABASE_URL,
          readUrl,
          schema: undefined,
          dataDir: '',
          poolSize: 1,
          connectTimeoutSeconds: 2,
        },
        { onHostDown: (host) => metrics.readFailovers.inc({ host }) },
      )
      try {
        await database.reads.read((sql) => sql`select 1`)
      } finally {
        await database.close()
      }
      expect(await text(metrics)).toContain(
        'sealed_search_db_read_failovers_total{host="127.0.0.1:1"} 1',
      )
    },
  )
})
