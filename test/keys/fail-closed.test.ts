/**
 * Fail closed on staleness: a gateway whose key ring has been read from no host for longer than
 * KEYS_FAIL_CLOSED_AFTER stops decrypting. Searches that decrypt (GET with an identifier token,
 * POST _search with one) answer 503 ERR_KEYS_RING_STALE with Retry-After, and so does readiness;
 * a metric and a log line say so; paths that decrypt nothing go on; a read that succeeds again
 * ends it by itself. A reading that is refused (not authentic) is not stale: its revocations apply.
 * The ring follows a real key directory, which the test takes away and brings back.
 */
import { rename, rm } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encryptMbiJwe } from '@sealed-search/client'
import { seed, seededBeneId, seededMbi } from '../../src/db/seed.js'
import { createApp } from '../../src/http/app.js'
import { addGeneratedKey } from '../../src/keys/custody/bootstrap.js'
import type { PublicJwk } from '../../src/keys/jwk.js'
import { dirKeyStore } from '../../src/keys/stores/dir-store.js'
import { followKeyStore } from '../../src/keys/ring/follow.js'
import { createMetrics } from '../../src/metrics/index.js'
import { BASE, capturingLogger, ENCRYPTED, searchPath } from '../support/app.js'
import { createTestDatabase, realServer, type TestDatabase } from '../support/db.js'
import { followDir } from '../support/following.js'
import { tempDir } from '../support/keys.js'
import { errorCodeOf, post, SEARCH, US_MBI, type FhirJson } from '../support/parity.js'

let db: TestDatabase
let work: string
beforeAll(async () => {
  db = await createTestDatabase()
  await seed(db.sql, { count: 5 })
  work = await tempDir('sealed-fail-closed-')
})
afterAll(async () => {
  await db?.close()
  if (work) await rm(work, { recursive: true, force: true })
})

const metric = (text: string, name: string) =>
  text.split('\n').find((l) => l.startsWith(`${name} `))

describe(`fail closed on staleness (${realServer ? 'PostgreSQL server' : 'embedded'})`, () => {
  it('refuses to decrypt once the ring has been read from nowhere for longer than the bound, and recovers by itself', async () => {
    const dir = `${work}/keys`
    await addGeneratedKey(dir, 'P-256')
    let now = new Date('2026-06-01T00:00:00Z')
    const clock = () => now
    const later = (seconds: number) => (now = new Date(now.getTime() + seconds * 1000))
    const metrics = createMetrics({ defaultMetrics: false })
    const { logger, lines } = capturingLogger()
    const keys = await followDir(dir, {
      logger,
      clock,
      failClosedAfterMs: 30_000,
      onFailClosed: (failClosed) => metrics.keyRingFailClosed.set(failClosed ? 1 : 0),
    })
    const app = createApp({ keys, sql: db.sql, logger, publicBaseUrl: BASE, clock, metrics })
    const jwk = keys.current().publishedJwks(now).keys[0] as PublicJwk
    const call = async (path: string, init?: RequestInit) => {
      const res = await app.request(path, init)
      const body = (await res.json()) as FhirJson
      return { status: res.status, code: errorCodeOf(body), retry: res.headers.get('Retry-After') }
    }
    const get = async () => call(searchPath(await encryptMbiJwe(seededMbi(1), jwk)))
    const postToken = async () =>
      call(SEARCH, post({ identifier: `${ENCRYPTED}|${await encryptMbiJwe(seededMbi(1), jwk)}` }))
    const postPlain = () => call(SEARCH, post({ identifier: `${US_MBI}|${seededMbi(2)}` }))
    const byId = () => call(`/v2/fhir/Patient/${seededBeneId(3)}`)
    const ready = () => call('/health/ready')
    const failClosed = async () =>
      metric(await metrics.registry.metrics(), 'sealed_search_key_ring_fail_closed')

    const ok = { status: 200, code: undefined, retry: null }
    const stale = { status: 503, code: 'ERR_KEYS_RING_STALE', retry: '5' }
    expect(await get()).toEqual(ok)
    expect(await failClosed()).toBe('sealed_search_key_ring_fail_closed 0')

    // The key directory is gone: the ring in place keeps decrypting up to the bound.
    await rename(dir, `${dir}.away`)
    expect(await keys.reload('test')).toBe(false)
    expect(keys.status().lastRead).toEqual(now)
    later(20)
    expect(await keys.reload('test')).toBe(false)
    later(10)
    expect(keys.freshness().state).toBe('current')
    expect(await get()).toEqual(ok)
    expect(await ready()).toEqual(ok)

    // Past the bound: every search that decrypts is refused, and readiness with it.
    later(1)
    expect(await get()).toEqual(stale)
    expect(await postToken()).toEqual(stale)
    expect(await ready()).toEqual(stale)
    expect(await failClosed()).toBe('sealed_search_key_ring_fail_closed 1')
    // What decrypts nothing goes on: a plaintext MBI in a POST body, a read by id.
    expect(await postPlain()).toEqual(ok)
    expect(await byId()).toEqual(ok)
    const said = lines.filter((l) => l.includes('ERR_KEYS_RING_STALE') && l.includes('KEYS_FAIL'))
    expect(said).toHaveLength(1)
    expect(JSON.parse(said[0]!)).toMatchObject({ level: 50, store: 'dir' })
    // Never a private key, nor the identifiers searched, in what was logged.
    const logged = lines.join('\n')
    expect(logged).not.toMatch(/"d":/)
    expect(logged).not.toContain(seededMbi(1))
    expect(logged).not.toContain(seededMbi(2))

    // The directory is back: the next read ends it.
    await rename(`${dir}.away`, dir)
    expect(await keys.reload('test')).toBe(true)
    expect(keys.freshness()).toEqual({ state: 'current' })
    expect(await get()).toEqual(ok)
    expect(await ready()).toEqual(ok)
    expect(await failClosed()).toBe('sealed_search_key_ring_fail_closed 0')
    expect(lines.filter((l) => l.includes('searches decrypt again'))).toHaveLength(1)
    await keys.stop()
  })

  it('fails closed on its timer while a read hangs, with no request to notice it', async () => {
    const dir = `${work}/hangs`
    await addGeneratedKey(dir, 'P-256')
    let now = new Date('2026-06-01T00:00:00Z')
    const { logger, lines } = capturingLogger()
    const real = dirKeyStore(dir)
    let hang: Promise<number> | undefined
    let release = () => {}
    // The directory store, except that its version, once asked to, never answers until released.
    const store = { ...real, version: () => hang ?? real.version() }
    const changes: boolean[] = []
    const keys = await followKeyStore(store, {
      logger,
      clock: () => now,
      pollIntervalMs: 20,
      subscribe: false,
      failClosedAfterMs: 30_000,
      onFailClosed: (failClosed) => changes.push(failClosed),
    })
    const version = keys.version()
    hang = new Promise((resolve) => (release = () => resolve(version)))
    await new Promise((r) => setTimeout(r, 100))
    now = new Date(now.getTime() + 31_000)
    await new Promise((r) => setTimeout(r, 100))
    expect(changes).toEqual([true])
    expect(keys.freshness().state).toBe('fail-closed')
    expect(lines.some((l) => l.includes('longer than KEYS_FAIL_CLOSED_AFTER'))).toBe(true)
    // The read answers at last: the ring is current again.
    hang = undefined
    release()
    await new Promise((r) => setTimeout(r, 100))
    expect(changes).toEqual([true, false])
    expect(keys.freshness()).toEqual({ state: 'current' })
    await keys.close()
    await real.close()
  })

  it('does not count a refused reading as stale: the store was read and its revocations apply', async () => {
    const dir = `${work}/refused`
    await addGeneratedKey(dir, 'P-256')
    let now = new Date('2026-06-01T00:00:00Z')
    const { logger } = capturingLogger()
    const real = dirKeyStore(dir)
    let tampered = false
    // The directory store as it is, except that its readings say the ring's MAC did not match.
    const store = {
      ...real,
      read: async () => {
        const stored = await real.read()
        return tampered ? { ...stored, authenticity: 'tampered' as const } : stored
      },
    }
    const keys = await followKeyStore(store, {
      logger,
      clock: () => now,
      pollIntervalMs: 0,
      subscribe: false,
      failClosedAfterMs: 30_000,
    })
    tampered = true
    expect(await keys.reload('test')).toBe(false)
    expect(keys.status().errors).toEqual(['ERR_KEYS_RING_MAC'])
    expect(keys.status().staleSince).toEqual(now)
    now = new Date(now.getTime() + 3600_000)
    expect(await keys.reload('test')).toBe(false)
    expect(keys.status().lastRead).toEqual(now)
    expect(keys.freshness()).toEqual({ state: 'current' })
    await keys.close()
    await real.close()
  })
})
