/**
 * The client package against a real gateway process across the key custodian's changes: a search
 * whose cached key was revoked refetches the JWKS and retries once with the key now published; a
 * cached JWKS with no key of the wanted curve is fetched again; and however many searches fail at
 * once, the gateway gets at most one JWKS request per rate-limit interval from one cache.
 */
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createJwksCache,
  DEFAULT_MIN_REFRESH_SECONDS,
  searchPatients,
  type JwksCache,
} from '@sealed-search/client'
import { seededBeneId, seededMbi } from '../../../src/db/seed.js'
import { startGatewayProcess, type GatewayProcess } from '../../support/gateway-process.js'
import { childEnv } from '../../support/process.js'
import { tempDir } from '../../support/temp.js'

const run = promisify(execFile)

interface Jwk {
  kid: string
  crv: string
}

describe('the client package when the gateway revokes or adds a key', () => {
  let keysDir: string
  let gateway: GatewayProcess
  let jwksUrl: string
  /** JWKS requests each cache made, counted in the fetch it was given. */
  const fetches = new Map<string, number>()
  /** The partner's clock runs ahead by this much: "a minute later", without waiting a minute. */
  let ahead = 0

  /** `npm run keys` on the gateway's key directory; its output (a kid for generate). */
  async function keys(...args: string[]): Promise<string> {
    const r = await run(
      process.execPath,
      ['node_modules/tsx/dist/cli.mjs', 'scripts/keys.ts', ...args],
      {
        env: childEnv({ KEYS_DIR: keysDir }),
      },
    )
    return r.stdout.trim()
  }

  /** What the gateway publishes now (not through any cache). */
  async function published(): Promise<Jwk[]> {
    const res = await fetch(jwksUrl, { cache: 'no-store' })
    return ((await res.json()) as { keys: Jwk[] }).keys
  }

  /** Waits until the gateway's JWKS satisfies `test` (it follows its key directory). */
  async function until(test: (keys: Jwk[]) => boolean): Promise<Jwk[]> {
    for (let i = 0; i < 150; i++) {
      const keys = await published()
      if (test(keys)) return keys
      await sleep(100)
    }
    throw new Error('the gateway did not pick up the key change')
  }

  function partnerCache(name: string): JwksCache {
    fetches.set(name, 0)
    return createJwksCache(jwksUrl, {
      now: () => Date.now() + ahead,
      fetch: (url, init) => {
        fetches.set(name, fetches.get(name)! + 1)
        return fetch(url, init)
      },
    })
  }

  beforeAll(async () => {
    keysDir = join(await tempDir('sealed-refetch-'), 'keys')
    await keys('generate', '--curve', 'P-256')
    await keys('generate', '--curve', 'X25519')
    gateway = await startGatewayProcess({ KEYS_DIR: keysDir, KEYS_POLL_INTERVAL: '1' })
    jwksUrl = `${gateway.url}/.well-known/jwks.json`
  }, 120_000)

  afterAll(() => gateway?.stop())

  it('refetches a cached JWKS that has no key of the curve, and finds the one published since', async () => {
    const x25519 = (await published()).find((k) => k.crv === 'X25519')!.kid
    await keys('revoke', x25519)
    await until((ks) => !ks.some((k) => k.crv === 'X25519'))
    const cache = partnerCache('no-curve')
    expect((await cache.get()).keys.map((k) => k.crv)).toEqual(['P-256'])

    const added = await keys('generate', '--curve', 'X25519')
    await until((ks) => ks.some((k) => k.kid === added))
    ahead += (DEFAULT_MIN_REFRESH_SECONDS + 1) * 1000
    const r = await searchPatients(gateway.url, seededMbi(4), cache, {
      crv: 'X25519',
      format: 'hpke',
    })
    expect([r.status, r.kid, r.retried]).toEqual([200, added, false])
    expect(JSON.stringify(r.body)).toContain(seededBeneId(4))
    expect(fetches.get('no-curve')).toBe(2)
  }, 60_000)

  it('retries each search once after a revocation, with one JWKS request for all of them, and holds the rate limit', async () => {
    const cache = partnerCache('revoked')
    const revoked = (await cache.key('P-256')).kid!
    const next = await keys('generate', '--curve', 'P-256')
    await keys('revoke', revoked)
    await until((ks) => ks.some((k) => k.kid === next) && !ks.some((k) => k.kid === revoked))

    // A minute later the cached JWKS is still fresh (max-age 300) and still names the revoked key.
    ahead += 60_000
    expect((await cache.get()).keys.map((k) => k.kid)).toContain(revoked)
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        searchPatients(gateway.url, seededMbi(i), cache, { crv: 'P-256' }),
      ),
    )
    for (const [i, r] of results.entries()) {
      expect([r.status, r.kid, r.retried]).toEqual([200, next, true])
      expect(JSON.stringify(r.body)).toContain(seededBeneId(i))
    }
    expect(fetches.get('revoked')).toBe(2)

    // Within the interval, forced refreshes answer from the last fetch; after it, one more fetch.
    for (let i = 0; i < 50; i++) await cache.refresh()
    await Promise.all(Array.from({ length: 50 }, () => cache.refresh()))
    expect(fetches.get('revoked')).toBe(2)
    ahead += DEFAULT_MIN_REFRESH_SECONDS * 1000
    await Promise.all(Array.from({ length: 10 }, () => cache.refresh()))
    expect(fetches.get('revoked')).toBe(3)
  }, 60_000)
})
