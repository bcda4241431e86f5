/**
 * One clock (src/keys/ring/clock-skew.ts): the skew against the store's clock, and the ring an
 * instance uses while its clock is beyond the bound: no pending key published before the store's
 * time says so, the key it replaces still published, everything accepted still accepted.
 */
import { describe, expect, it } from 'vitest'
import { holdPublication, measureSkew, storeTime } from '../../src/keys/ring/clock-skew.js'
import { generateStoredKey, toPublicJwk, type PrivateJwk } from '../../src/keys/jwk.js'
import { KeyRing } from '../../src/keys/ring/keyring.js'
import { ringKeyFromPrivateJwk, type RingKey } from '../../src/keys/ring/ring-key.js'
import type { KeyState } from '../../src/keys/stores/manifest.js'

const T = Date.parse('2026-06-01T12:00:00Z')
const at = (s: number) => new Date(T + s * 1000).toISOString()

async function key(state: KeyState, times: { publishAt?: string; retireAt?: string } = {}) {
  const jwk = (await generateStoredKey('P-256')) as PrivateJwk
  const publicJwk = toPublicJwk(jwk)
  const info = {
    kid: jwk.kid!,
    crv: 'P-256' as const,
    state,
    created: at(-3600),
    notAfter: null,
    publishAt: times.publishAt ?? null,
    retireAt: times.retireAt ?? null,
    publicJwk,
  }
  return ringKeyFromPrivateJwk(info, jwk)
}

const kids = (keys: readonly RingKey[]) => keys.map((k) => k.kid).sort()

describe('clock skew', () => {
  it('measures this host ahead as positive, from the middle of the round trip', async () => {
    const ticks = [T + 30_000, T + 30_040]
    const reading = await measureSkew(
      async () => new Date(T + 20),
      () => ticks.shift()!,
    )
    expect(reading.skewSeconds).toBeCloseTo(30, 6)
    expect(storeTime(30, () => T + 30_000).toISOString()).toBe(at(0))
    const behind = await measureSkew(
      async () => new Date(T),
      () => T - 60_000,
    )
    expect(behind.skewSeconds).toBe(-60)
  })

  it('holds a pending key not yet due by the store’s time, and keeps its predecessor published', async () => {
    const old = await key('active', { retireAt: at(15) })
    const next = await key('pending', { publishAt: at(15) })
    const due = await key('pending', { publishAt: at(-1) })
    const ring = new KeyRing([old, next, due])
    // This host is 30 s ahead: by its clock the rotation is over, by the database's it is not.
    const local = new Date(T + 30_000)
    expect(kids(ring.active(local))).toEqual(kids([next, due]))
    const held = holdPublication(ring, new Date(T))
    expect(kids(held.active(local))).toEqual(kids([old, due]))
    for (const k of [old, next, due]) expect(held.accepts(held.get(k.kid)!, local)).toBe(true)
    // Once the store's time has passed publishAt, the held ring publishes it like every other.
    const later = holdPublication(ring, new Date(T + 16_000))
    expect(kids(later.active(local))).toEqual(kids([next, due]))
  })

  it('keeps each held key able to compute', async () => {
    const next = await key('pending', { publishAt: at(15) })
    const held = holdPublication(new KeyRing([next]), new Date(T)).get(next.kid)!
    expect(held.publishAt).toBeNull()
    const peer = await key('active')
    const point = Buffer.from(
      `04${Buffer.from(peer.publicJwk.x!, 'base64url').toString('hex')}${Buffer.from(peer.publicJwk.y!, 'base64url').toString('hex')}`,
      'hex',
    )
    expect(await held.agree(point)).toEqual(await next.agree(point))
  })
})
