/**
 * A failed key ring reload is visible: counted in `sealed_search_key_ring_reload_failures_total`,
 * with the last good load time exported, and `/health/ready` answers 503 once the key store has
 * been unreadable for longer than allowed (KEYS_STALE_READY_SECONDS). A key that fails alone is
 * counted but the ring still follows the store (its revocations apply), so readiness stays.
 */
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../src/http/app.js'
import { MANIFEST_FILE } from '../../src/keys/stores/manifest.js'
import { addGeneratedKey } from '../../src/keys/stores/dir-files.js'
import { createMetrics } from '../../src/metrics/index.js'
import { BASE, capturingLogger, errorCode, type Outcome } from '../support/app.js'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { followDir } from '../support/following.js'
import { tempDir } from '../support/keys.js'

let db: TestDatabase
let dir: string
beforeAll(async () => {
  db = await createTestDatabase()
  dir = await tempDir('sealed-reload-status-')
})
afterAll(async () => {
  await db.close()
  await rm(dir, { recursive: true, force: true })
})

const metric = (text: string, name: string): string | undefined =>
  text.split('\n').find((l) => l.startsWith(name))

describe('reload failures are visible', () => {
  it('counts failed reloads, exports the last good load time, and turns readiness 503 after the allowed time', async () => {
    let now = new Date('2026-06-01T00:00:00Z')
    const clock = () => now
    const later = (seconds: number) => (now = new Date(now.getTime() + seconds * 1000))
    const metrics = createMetrics({ defaultMetrics: false })
    const { logger } = capturingLogger()
    const a = await addGeneratedKey(dir, 'P-256')
    await addGeneratedKey(dir, 'X25519')
    const keys = await followDir(dir, {
      logger,
      clock,
      onStatus: (s) => metrics.observeRingStatus(s),
    })
    const app = createApp({
      keys,
      sql: db.sql,
      logger,
      publicBaseUrl: BASE,
      clock,
      metrics,
      keyRingStaleAfterSeconds: 60,
    })
    const ready = async () => {
      const res = await app.request('/health/ready')
      const body = (await res.json()) as Outcome
      if (res.status === 200) return { status: 200 }
      return { status: res.status, code: errorCode(body), retry: res.headers.get('Retry-After') }
    }
    const scrape = async () => (await app.request('/metrics')).text()

    const t0 = now.getTime() / 1000
    expect(metric(await scrape(), 'sealed_search_key_ring_last_good_load_seconds')).toBe(
      `sealed_search_key_ring_last_good_load_seconds ${t0}`,
    )
    expect(await ready()).toEqual({ status: 200 })

    // The manifest breaks: the last good ring keeps serving, and the failure is counted.
    const manifest = join(dir, MANIFEST_FILE)
    const good = await readFile(manifest, 'utf8')
    later(10)
    await writeFile(manifest, '{ not json')
    expect(await keys.reload('test')).toBe(false)
    expect(keys.status().staleSince).toEqual(now)
    later(10)
    expect(await keys.reload('test')).toBe(false)
    let text = await scrape()
    expect(
      metric(
        text,
        'sealed_search_key_ring_reload_failures_total{code="ERR_KEYS_MANIFEST_INVALID"}',
      ),
    ).toMatch(/ 2$/)
    expect(metric(text, 'sealed_search_key_ring_last_good_load_seconds')).toMatch(` ${t0}`)
    // Still within the allowed 60 s since the first failure: ready.
    later(45)
    expect(await ready()).toEqual({ status: 200 })
    later(10)
    expect(await ready()).toEqual({ status: 503, code: 'ERR_KEYS_RING_STALE', retry: '5' })

    // The manifest is repaired: ready again, and the last good load time moves on.
    await writeFile(manifest, good)
    expect(await keys.reload('test')).toBe(true)
    expect(await ready()).toEqual({ status: 200 })
    text = await scrape()
    expect(metric(text, 'sealed_search_key_ring_last_good_load_seconds')).toBe(
      `sealed_search_key_ring_last_good_load_seconds ${now.getTime() / 1000}`,
    )

    await keys.stop()

    // A key whose file is gone: a running ring keeps it (opened once per kid); a restart counts
    // the failure, has no good load, and stays ready, since the ring follows the store.
    later(30)
    await rm(join(dir, a.file))
    const restartMetrics = createMetrics({ defaultMetrics: false })
    const restarted = await followDir(dir, {
      logger,
      clock,
      onStatus: (s) => restartMetrics.observeRingStatus(s),
    })
    expect(restarted.status().errors).toEqual(['ERR_KEYS_FILE_MISSING'])
    expect(restarted.status().staleSince).toBeUndefined()
    expect(restarted.current().get(a.kid)).toBeUndefined()
    text = await restartMetrics.registry.metrics()
    expect(
      metric(text, 'sealed_search_key_ring_reload_failures_total{code="ERR_KEYS_FILE_MISSING"}'),
    ).toMatch(/ 1$/)
    expect(metric(text, 'sealed_search_key_ring_last_good_load_seconds')).toBe(
      'sealed_search_key_ring_last_good_load_seconds 0',
    )
    const restartedApp = createApp({
      keys: restarted,
      sql: db.sql,
      logger,
      publicBaseUrl: BASE,
      clock,
      metrics: restartMetrics,
      keyRingStaleAfterSeconds: 60,
    })
    later(600)
    expect((await restartedApp.request('/health/ready')).status).toBe(200)
    await restarted.stop()
  })

  it('keeps the last good ring when the manifest disappears during a reload', async () => {
    const own = await tempDir('sealed-reload-missing-')
    const { logger } = capturingLogger()
    try {
      const a = await addGeneratedKey(own, 'P-256')
      const keys = await followDir(own, { logger })
      await rm(join(own, MANIFEST_FILE))
      expect(await keys.reload('test')).toBe(false)
      expect(keys.current().get(a.kid)).toBeDefined()
      expect(keys.status().errors).toEqual(['ERR_KEYS_MANIFEST_MISSING'])
      await keys.stop()
    } finally {
      await rm(own, { recursive: true, force: true })
    }
  })
})
