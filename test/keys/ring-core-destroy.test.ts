/**
 * Destruction and X-Wing keys in the one ring core (src/keys/custody/change.ts): destroy, sweep
 * and a retirement's destroy time are changes of applyChange like every other, and an X-Wing key
 * is a third key algorithm whose HPKE key id comes from the same allocation as the curves'.
 */
import { describe, expect, it } from 'vitest'
import { activeCurves, applyChange } from '../../src/keys/custody/change.js'
import type { KeyEntry, Ring } from '../../src/keys/stores/key-store.js'
import { canonicalRing } from '../../src/keys/stores/ring-mac.js'
import { ringVersion } from '../../src/keys/stores/ring-version.js'

const T0 = new Date('2026-06-01T00:00:00Z')
const later = (seconds: number) => new Date(T0.getTime() + seconds * 1000)

const entry = (kid: string, hpkeKeyId: number, crv: KeyEntry['crv'], state: KeyEntry['state']) =>
  ({
    kid,
    hpkeKeyId,
    crv,
    state,
    created: T0.toISOString(),
    notAfter: state === 'active' ? null : T0.toISOString(),
  }) as KeyEntry

const ring = (...entries: KeyEntry[]): Ring => ({ entries, invalid: [] })

describe('destruction in the ring core', () => {
  it('destroys a retired or revoked key and keeps its entry, kid and id', () => {
    const before = ring(
      entry('p1', 1, 'P-256', 'active'),
      entry('p0', 2, 'P-256', 'retired'),
      entry('w0', 3, 'X-Wing', 'revoked'),
    )
    const one = applyChange(before, { type: 'destroy', kid: 'p0' }, T0)
    expect(one.changed).toMatchObject({
      kid: 'p0',
      state: 'destroyed',
      destroyedAt: T0.toISOString(),
    })
    expect(one.destroyed.map((k) => k.kid)).toEqual(['p0'])
    const two = applyChange(one.ring, { type: 'destroy', kid: 'w0' }, T0)
    expect(two.ring.entries.map((k) => [k.kid, k.hpkeKeyId, k.state])).toEqual([
      ['p1', 1, 'active'],
      ['p0', 2, 'destroyed'],
      ['w0', 3, 'destroyed'],
    ])
    // The input ring is never changed: the core is pure.
    expect(before.entries.map((k) => k.state)).toEqual(['active', 'retired', 'revoked'])
    // Again: nothing more is destroyed, and the time stays.
    const again = applyChange(two.ring, { type: 'destroy', kid: 'p0' }, later(60))
    expect(again.destroyed).toEqual([])
    expect(again.changed?.destroyedAt).toBe(T0.toISOString())
  })

  it.each(['active', 'pending', 'retiring'] as const)(
    'refuses to destroy a %s key, naming its state',
    (state) => {
      const k = { ...entry('k', 1, 'X25519', state), notAfter: later(3600).toISOString() }
      if (state === 'pending') Object.assign(k, { publishAt: later(60).toISOString() })
      const other = entry('o', 2, 'X25519', 'active')
      expect(() => applyChange(ring(k, other), { type: 'destroy', kid: 'k' }, T0)).toThrow(
        expect.objectContaining({
          code: 'ERR_KEYS_STATE',
          message: expect.stringContaining(state),
        }),
      )
    },
  )

  it('refuses to revoke or retire a destroyed key, and an unknown kid', () => {
    const r = ring(entry('p1', 1, 'P-256', 'active'), {
      ...entry('p0', 2, 'P-256', 'destroyed'),
      destroyedAt: T0.toISOString(),
    })
    for (const type of ['revoke', 'retire'] as const) {
      expect(() => applyChange(r, { type, kid: 'p0' }, T0)).toThrow(
        expect.objectContaining({ code: 'ERR_KEYS_STATE' }),
      )
    }
    expect(() => applyChange(r, { type: 'destroy', kid: 'nope' }, T0)).toThrow(
      expect.objectContaining({ code: 'ERR_KEYS_UNKNOWN_KID' }),
    )
  })

  it('schedules destruction at retirement, and a sweep destroys only what is due', () => {
    const r = ring(
      entry('p1', 1, 'P-256', 'active'),
      entry('p2', 2, 'P-256', 'active'),
      entry('x1', 3, 'X25519', 'active'),
    )
    const retired = applyChange(r, { type: 'retire', kid: 'p1', destroyAfterSeconds: 60 }, T0)
    expect(retired.changed).toMatchObject({ state: 'retired', destroyAt: later(60).toISOString() })
    const early = applyChange(retired.ring, { type: 'sweep' }, later(59))
    expect(early.destroyed).toEqual([])
    const due = applyChange(retired.ring, { type: 'sweep' }, later(60))
    expect(due.destroyed.map((k) => k.kid)).toEqual(['p1'])
    expect(due.ring.entries.find((k) => k.kid === 'p1')).toMatchObject({
      state: 'destroyed',
      destroyedAt: later(60).toISOString(),
      destroyAt: null,
    })
    expect(due.ring.entries.filter((k) => k.state === 'active').map((k) => k.kid)).toEqual([
      'p2',
      'x1',
    ])
  })

  it('a destroyed key is covered by the ring MAC and the ring version', () => {
    const r = ring(entry('p1', 1, 'P-256', 'active'), entry('p0', 2, 'P-256', 'retired'))
    const done = applyChange(r, { type: 'destroy', kid: 'p0' }, T0).ring
    const moved = ring(done.entries[0]!, {
      ...done.entries[1]!,
      destroyedAt: later(1).toISOString(),
    })
    expect(canonicalRing(1, moved.entries, [])).not.toBe(canonicalRing(1, done.entries, []))
    expect(ringVersion(moved.entries)).not.toBe(ringVersion(done.entries))
    expect(ringVersion(done.entries)).not.toBe(ringVersion(r.entries))
  })
})

describe('X-Wing keys in the ring core', () => {
  it('rotates P-256, X25519 and X-Wing at once with distinct, never-used HPKE key ids', () => {
    const r: Ring = {
      entries: [
        entry('p1', 1, 'P-256', 'active'),
        entry('x1', 2, 'X25519', 'active'),
        entry('w1', 3, 'X-Wing', 'active'),
        { ...entry('gone', 7, 'X-Wing', 'destroyed'), destroyedAt: T0.toISOString() },
      ],
      invalid: [{ kid: 'bad', hpkeKeyId: 9, why: 'left out', revoked: false }],
    }
    const curves = activeCurves(r, T0)
    expect(curves).toEqual(['P-256', 'X-Wing', 'X25519'])
    const done = applyChange(
      r,
      {
        type: 'rotate',
        keys: curves.map((crv, i) => ({ kid: `new${i}`, crv })),
        graceSeconds: 3600,
        publishDelaySeconds: 15,
      },
      T0,
    )
    expect(done.added.map((k) => [k.crv, k.hpkeKeyId, k.state])).toEqual([
      ['P-256', 10, 'pending'],
      ['X-Wing', 11, 'pending'],
      ['X25519', 12, 'pending'],
    ])
    expect(done.retiring.map((x) => x.map((k) => k.kid))).toEqual([['p1'], ['w1'], ['x1']])
  })

  it('generates an X-Wing key into a ring of curves: pending for the delay, the next id', () => {
    const r = ring(entry('p1', 1, 'P-256', 'active'))
    const done = applyChange(
      r,
      { type: 'generate', key: { kid: 'w1', crv: 'X-Wing' }, publishDelaySeconds: 30 },
      T0,
    )
    expect(done.added[0]).toMatchObject({ crv: 'X-Wing', hpkeKeyId: 2, state: 'pending' })
  })
})
