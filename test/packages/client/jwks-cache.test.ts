/**
 * The partner library as the gateway workspace imports it: `@sealed-search/client`, its sources.
 */
import { Hono } from 'hono'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  chooseKey,
  createJwksCache,
  DEFAULT_MIN_REFRESH_SECONDS,
  encryptHicn,
  encryptMbi,
  encryptMbiJwe,
  freshnessSeconds,
  patientSearchUrl,
  type Jwks,
} from '@sealed-search/client'
import { aesGcmSeal, keySchedule } from '../../../packages/client/src/hpke/seal.js'
import { hpkeSuiteId } from '../../../packages/client/src/hpke/suite.js'
import { openToken } from '../../../src/crypto/token.js'
import { jwksRoutes } from '../../../src/http/routes/jwks.js'
import { staticKeyRing, type KeyRing } from '../../../src/keys/ring/keyring.js'
import { HPKE_VECTORS } from '../../support/hpke-vectors.js'
import { twoKeyRing } from '../../support/keys.js'

const MBI = '1S00E00AA00'
const URL_ = 'https://gateway.test/.well-known/jwks.json'

let ring: KeyRing
let jwks: Jwks

beforeAll(async () => {
  ring = (await twoKeyRing()).ring
  jwks = JSON.parse(JSON.stringify(ring.jwks())) as Jwks
})

/** A fake gateway: answers each request with the next scripted response, and records requests. */
function scripted(...responses: (() => Response)[]) {
  const requests: { url: string; headers: Headers }[] = []
  const fetch = async (url: string, init: RequestInit) => {
    requests.push({ url, headers: new Headers(init.headers) })
    const next = responses.shift()
    if (!next) throw new Error('no more scripted responses')
    return next()
  }
  return { fetch, requests }
}

const ok = (body: Jwks, headers: Record<string, string>) => () =>
  new Response(JSON.stringify(body), { status: 200, headers })
const notModified = (headers: Record<string, string>) => () =>
  new Response(null, { status: 304, headers })

describe('the JWKS cache', () => {
  it('serves the cached keys for max-age seconds, then revalidates with If-None-Match', async () => {
    let now = 0
    const gateway = scripted(
      ok(jwks, { 'cache-control': 'public, max-age=300', etag: '"v1"' }),
      notModified({ 'cache-control': 'public, max-age=300', etag: '"v1"' }),
    )
    const cache = createJwksCache(URL_, { fetch: gateway.fetch, now: () => now })
    expect(await cache.get()).toEqual(jwks)
    now = 299_000
    expect(await cache.get()).toEqual(jwks)
    expect(gateway.requests).toHaveLength(1)
    expect(gateway.requests[0]!.headers.get('if-none-match')).toBeNull()
    now = 300_000
    expect(await cache.get()).toEqual(jwks)
    expect(gateway.requests).toHaveLength(2)
    expect(gateway.requests[1]!.headers.get('if-none-match')).toBe('"v1"')
    // The 304 made the keys fresh for another max-age.
    now = 599_000
    await cache.get()
    expect(gateway.requests).toHaveLength(2)
  })

  it('replaces the keys when revalidation returns a new set', async () => {
    let now = 0
    const rotated = { keys: jwks.keys.slice(1) }
    const gateway = scripted(
      ok(jwks, { 'cache-control': 'max-age=60', etag: '"v1"' }),
      ok(rotated, { 'cache-control': 'max-age=60', etag: '"v2"' }),
    )
    const cache = createJwksCache(URL_, { fetch: gateway.fetch, now: () => now })
    await cache.get()
    now = 61_000
    expect(await cache.get()).toEqual(rotated)
  })

  it('fetches again on refresh() (after ERR_TOKEN_KID_UNKNOWN) at most once per interval', async () => {
    let now = 0
    const gateway = scripted(
      ok(jwks, { 'cache-control': 'max-age=300', etag: '"v1"' }),
      notModified({ 'cache-control': 'max-age=300' }),
    )
    const cache = createJwksCache(URL_, { fetch: gateway.fetch, now: () => now })
    await cache.get()
    // Within the interval after a fetch, a refresh answers with what that fetch gave.
    now = DEFAULT_MIN_REFRESH_SECONDS * 1000 - 1
    expect(await cache.refresh()).toEqual(jwks)
    expect(gateway.requests).toHaveLength(1)
    now = DEFAULT_MIN_REFRESH_SECONDS * 1000
    expect(await Promise.all([cache.refresh(), cache.refresh()])).toEqual([jwks, jwks])
    expect(gateway.requests).toHaveLength(2)
    expect(gateway.requests[1]!.headers.get('if-none-match')).toBe('"v1"')
  })

  it('takes the interval from minRefreshIntervalSeconds', async () => {
    let now = 0
    const gateway = scripted(ok(jwks, { 'cache-control': 'max-age=300' }), ok(jwks, {}))
    const cache = createJwksCache(URL_, {
      fetch: gateway.fetch,
      now: () => now,
      minRefreshIntervalSeconds: 60,
    })
    await cache.get()
    now = 59_999
    await cache.refresh()
    expect(gateway.requests).toHaveLength(1)
    now = 60_000
    await cache.refresh()
    expect(gateway.requests).toHaveLength(2)
  })

  it('key(): fetches again when the cached JWKS has no key of the curve, or only the excluded one', async () => {
    let now = 0
    const p256 = jwks.keys.find((k) => k.crv === 'P-256')!
    const x25519 = jwks.keys.find((k) => k.crv === 'X25519')!
    const gateway = scripted(
      ok({ keys: [p256] }, { 'cache-control': 'max-age=300' }),
      ok(jwks, { 'cache-control': 'max-age=300' }),
    )
    const cache = createJwksCache(URL_, { fetch: gateway.fetch, now: () => now })
    expect((await cache.key('P-256')).kid).toBe(p256.kid)
    now = 11_000
    expect((await cache.key('X25519', { format: 'hpke' })).kid).toBe(x25519.kid)
    expect(gateway.requests).toHaveLength(2)
    // Only the excluded key of its curve, and the interval not over: no request, an error.
    await expect(cache.key('P-256', { exclude: p256.kid })).rejects.toThrow(/no P-256/)
    expect(gateway.requests).toHaveLength(2)
  })

  it('makes one request for many concurrent callers', async () => {
    const gateway = scripted(ok(jwks, { 'cache-control': 'max-age=300' }))
    const cache = createJwksCache(URL_, { fetch: gateway.fetch, now: () => 0 })
    const all = await Promise.all([cache.get(), cache.get(), cache.get()])
    expect(all).toEqual([jwks, jwks, jwks])
    expect(gateway.requests).toHaveLength(1)
  })

  it('keeps nothing under no-store, and throws on an HTTP error', async () => {
    const gateway = scripted(
      ok(jwks, { 'cache-control': 'no-store', etag: '"v1"' }),
      () => new Response('down', { status: 503 }),
    )
    const cache = createJwksCache(URL_, { fetch: gateway.fetch, now: () => 0 })
    await cache.get()
    await expect(cache.get()).rejects.toThrow('HTTP 503')
    expect(gateway.requests[1]!.headers.get('if-none-match')).toBeNull()
  })

  it.each([
    ['public, max-age=300', {}, 300],
    ['max-age=300', { age: '100' }, 200],
    ['max-age=300', { age: '400' }, 0],
    ['max-age=999999', {}, 86_400],
    ['no-cache, max-age=300', {}, 0],
    ['private', {}, 7],
    ['max-age=abc', {}, 7],
  ])('gives "%s" (%o) a freshness of %i s', (cacheControl, extra, seconds) => {
    const headers = new Headers({ 'cache-control': cacheControl, ...extra })
    expect(freshnessSeconds(headers, 7, 86_400)).toBe(seconds)
  })

  it("follows the gateway's own JWKS route: max-age, ETag and 304", async () => {
    let now = 0
    const app = new Hono().route('/.well-known', jwksRoutes(staticKeyRing(ring), 120))
    const statuses: number[] = []
    const fetch = async (url: string, init: RequestInit) => {
      const res = await app.request(url, init)
      statuses.push(res.status)
      return res
    }
    const cache = createJwksCache(URL_, { fetch, now: () => now })
    expect(await cache.get()).toEqual(jwks)
    now = 121_000
    expect(await cache.get()).toEqual(jwks)
    expect(statuses).toEqual([200, 304])
  })
})

describe('choosing a key and encrypting', () => {
  it('chooses for HPKE only a key that publishes an hpke_key_id', () => {
    const x = jwks.keys.find((k) => k.crv === 'X25519')!
    const withoutId = { keys: jwks.keys.map(({ hpke_key_id: _, ...k }) => k) }
    expect(chooseKey(withoutId, 'X25519').kid).toBe(x.kid)
    expect(() => chooseKey(withoutId, 'X25519', { format: 'hpke' })).toThrow('no X25519')
    expect(chooseKey(jwks, 'X25519', { format: 'hpke' }).kid).toBe(x.kid)
  })

  it.each(['jwe', 'hpke'] as const)('encrypts in the %s format for both curves', async (format) => {
    for (const crv of ['P-256', 'X25519'] as const) {
      const key = chooseKey(jwks, crv, { format })
      const token = await encryptMbi(MBI, key, { format, ttlSeconds: 60 })
      expect(token.includes('.')).toBe(format === 'jwe')
      expect(await openToken(token, ring, new Date())).toMatchObject({ mbi: MBI, format })
      expect(patientSearchUrl('https://gw.test/', token)).toBe(
        `https://gw.test/v2/fhir/Patient?identifier=https://bluebutton.cms.gov/resources/identifier/mbi-encrypted%7C${token}`,
      )
    }
  })

  it('refuses alg or enc with the hpke format', async () => {
    const key = chooseKey(jwks, 'X25519', { format: 'hpke' })
    await expect(encryptMbi(MBI, key, { format: 'hpke', alg: 'ECDH-ES' })).rejects.toThrow(
      TypeError,
    )
  })

  it.each([0, -60, 1.5, Number.NaN, Number.POSITIVE_INFINITY])(
    'refuses a JWE ttlSeconds of %s, as the HPKE client does',
    async (ttlSeconds) => {
      await expect(encryptMbiJwe(MBI, jwks.keys[0]!, { ttlSeconds })).rejects.toThrow(TypeError)
    },
  )
})

describe('HICN tokens', () => {
  it.each(['jwe', 'hpke'] as const)(
    'encrypts a HICN in the %s format that the gateway opens as a HICN only',
    async (format) => {
      const key = chooseKey(jwks, 'P-256', { format })
      const token = await encryptHicn('900000003c1', key, { format })
      expect(await openToken(token, ring, new Date(), 'hicn')).toMatchObject({
        hicn: '900000003C1',
      })
      await expect(openToken(token, ring, new Date())).rejects.toMatchObject({
        code: 'ERR_TOKEN_IDENTIFIER_INVALID',
      })
      expect(patientSearchUrl('https://gw.test', token, 'hicn')).toBe(
        `https://gw.test/v2/fhir/Patient?identifier=https://bluebutton.cms.gov/resources/identifier/hicn-encrypted%7C${token}`,
      )
    },
  )

  it('refuses a malformed HICN before encrypting, without echoing it', async () => {
    const error = await encryptHicn('12345678A', jwks.keys[0]!).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TypeError)
    expect((error as Error).message).not.toContain('12345678A')
  })
})

describe("the library's own HPKE key schedule and AEAD", () => {
  const hex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'))
  it.each(HPKE_VECTORS.map((v) => [v.section, v] as const))(
    'gives the key, base_nonce and first ciphertext of RFC 9180 %s',
    async (_section, v) => {
      const suiteId = hpkeSuiteId(v.kem_id, v.kdf_id, v.aead_id)
      const { key, baseNonce } = keySchedule(suiteId, hex(v.shared_secret), hex(v.info))
      expect(Buffer.from(key).toString('hex')).toBe(v.key)
      expect(Buffer.from(baseNonce).toString('hex')).toBe(v.base_nonce)
      const first = v.encryptions.find((e) => e.seq === 0)!
      const ct = await aesGcmSeal(key, baseNonce, hex(first.aad), hex(first.pt))
      expect(Buffer.from(ct).toString('hex')).toBe(first.ct)
    },
  )
})
