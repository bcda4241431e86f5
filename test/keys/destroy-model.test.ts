/**
 * Destruction in the one ring core (`applyChange`, src/keys/custody/change.ts), driven by random
 * command sequences (fast-check `fc.commands`) of generate, rotate, retire (with and without a
 * destroy time), revoke, destroy, sweep and the clock, as every store runs them. After every
 * step: no entry ever leaves the ring, kids and HPKE key ids stay unique (a destroyed key's id
 * is never given again), a destroyed key stays destroyed at the time it was destroyed and is
 * never accepted nor published, destroy succeeds only on a retired or revoked key, the change
 * names exactly the keys it destroyed, and a refused change leaves the ring as it was.
 * The stores' side of destruction (material removed) is the custody model's
 * (test/keys/custody-model.test.ts).
 */
import fc from 'fast-check'
import { expect, it } from 'vitest'
import { applyChange, type Change, type Changed } from '../../src/keys/custody/change.js'
import type { Ring } from '../../src/keys/stores/key-store.js'
import { isAccepted, isPublished, stateAt } from '../../src/keys/stores/manifest.js'

interface Real {
  ring: Ring
  now: Date
  made: number
}
interface Model {
  /** kid -> the time it was destroyed. */
  destroyed: Map<string, string>
  count: number
}
type Cmd = fc.AsyncCommand<Model, Real>

const CURVES = ['P-256', 'X25519'] as const
type Crv = (typeof CURVES)[number]

const newKey = (real: Real, crv: Crv) => ({ kid: `kid-${++real.made}`, crv })

/**
 * Applies a change to the ring core; a refused one must leave the ring as it was (the core
 * never changes its input) and refuse with a key error.
 */
function change(real: Real, c: Change): Changed | undefined {
  const before = structuredClone(real.ring)
  try {
    const changed = applyChange(real.ring, c, real.now)
    expect(real.ring).toEqual(before)
    real.ring = changed.ring
    return changed
  } catch (e) {
    expect((e as { code?: string }).code).toMatch(/^ERR_KEYS_/)
    expect(real.ring).toEqual(before)
    return undefined
  }
}

const pick = (real: Real, i: number) =>
  real.ring.entries[i % real.ring.entries.length]?.kid ?? 'none'

/** Records the keys a change destroyed, and checks it named only keys not destroyed before. */
function recordDestroyed(m: Model, r: Real, changed: Changed | undefined): void {
  for (const k of changed?.destroyed ?? []) {
    expect(m.destroyed.has(k.kid)).toBe(false)
    m.destroyed.set(k.kid, r.now.toISOString())
  }
}

class Generate implements Cmd {
  constructor(readonly crv: Crv) {}
  check = () => true
  async run(m: Model, r: Real) {
    const key = newKey(r, this.crv)
    if (change(r, { type: 'generate', key, publishDelaySeconds: 0 })) m.count++
  }
  toString = () => `generate(${this.crv})`
}
class Rotate implements Cmd {
  constructor(
    readonly crv: Crv,
    readonly delay: number,
  ) {}
  check = () => true
  async run(m: Model, r: Real) {
    const keys = [newKey(r, this.crv)]
    const c: Change = { type: 'rotate', keys, graceSeconds: 30, publishDelaySeconds: this.delay }
    if (change(r, c)) m.count++
  }
  toString = () => `rotate(${this.crv}, ${this.delay})`
}
class Retire implements Cmd {
  constructor(
    readonly i: number,
    readonly destroyAfter: number | undefined,
  ) {}
  check = () => true
  async run(_m: Model, r: Real) {
    const kid = pick(r, this.i)
    const changed = change(r, {
      type: 'retire',
      kid,
      force: true,
      destroyAfterSeconds: this.destroyAfter,
    })
    if (changed && this.destroyAfter !== undefined) {
      const due = new Date(+r.now + this.destroyAfter * 1000).toISOString()
      expect(changed.changed).toMatchObject({ kid, state: 'retired', destroyAt: due })
    }
  }
  toString = () => `retire(${this.i}, ${this.destroyAfter})`
}
class Revoke implements Cmd {
  constructor(readonly i: number) {}
  check = () => true
  async run(_m: Model, r: Real) {
    change(r, { type: 'revoke', kid: pick(r, this.i) })
  }
  toString = () => `revoke(${this.i})`
}
class Destroy implements Cmd {
  constructor(readonly i: number) {}
  check = () => true
  async run(m: Model, r: Real) {
    const kid = pick(r, this.i)
    const before = r.ring.entries.find((k) => k.kid === kid)
    const state = before && stateAt(before, r.now)
    const changed = change(r, { type: 'destroy', kid })
    expect(changed !== undefined).toBe(
      state === 'retired' || state === 'revoked' || state === 'destroyed',
    )
    if (changed)
      expect(changed.destroyed.map((k) => k.kid)).toEqual(state === 'destroyed' ? [] : [kid])
    recordDestroyed(m, r, changed)
  }
  toString = () => `destroy(${this.i})`
}
class Sweep implements Cmd {
  check = () => true
  async run(m: Model, r: Real) {
    const due = r.ring.entries.filter(
      (k) =>
        (k.state === 'retired' || k.state === 'revoked') &&
        k.destroyAt != null &&
        Date.parse(k.destroyAt) <= +r.now,
    )
    const changed = change(r, { type: 'sweep' })
    expect(changed?.destroyed.map((k) => k.kid).sort()).toEqual(due.map((k) => k.kid).sort())
    recordDestroyed(m, r, changed)
  }
  toString = () => 'sweep'
}
class Advance implements Cmd {
  constructor(readonly seconds: number) {}
  check = () => true
  async run(_m: Model, r: Real) {
    r.now = new Date(+r.now + this.seconds * 1000)
  }
  toString = () => `advance(${this.seconds})`
}

function invariants(m: Model, r: Real): void {
  const { entries } = r.ring
  expect(entries).toHaveLength(m.count)
  expect(new Set(entries.map((k) => k.kid)).size).toBe(m.count)
  expect(new Set(entries.map((k) => k.hpkeKeyId)).size).toBe(m.count)
  for (const k of entries) {
    const destroyedAt = m.destroyed.get(k.kid)
    if (destroyedAt === undefined) {
      expect(k.state).not.toBe('destroyed')
      continue
    }
    expect(k).toMatchObject({ state: 'destroyed', destroyedAt })
    expect(isAccepted(k, r.now)).toBe(false)
    expect(isPublished(k, r.now)).toBe(false)
  }
}

it('keeps the ring invariants under any sequence of custody changes with destruction', async () => {
  const index = fc.nat(20)
  const commands = fc.commands(
    [
      fc.constantFrom(...CURVES).map((c) => new Generate(c)),
      fc
        .tuple(fc.constantFrom(...CURVES), fc.constantFrom(0, 10))
        .map(([c, d]) => new Rotate(c, d)),
      fc.tuple(index, fc.option(fc.nat(60), { nil: undefined })).map(([i, s]) => new Retire(i, s)),
      index.map((i) => new Revoke(i)),
      index.map((i) => new Destroy(i)),
      fc.constant(new Sweep()),
      fc.nat(40).map((s) => new Advance(s)),
    ],
    { maxCommands: 40 },
  )
  await fc.assert(
    fc.asyncProperty(commands, async (cmds) => {
      const setup = () => ({
        model: { destroyed: new Map<string, string>(), count: 0 },
        real: {
          ring: { entries: [], invalid: [] },
          now: new Date('2026-06-01T00:00:00Z'),
          made: 0,
        } as Real,
      })
      await fc.asyncModelRun(
        setup,
        [...cmds].map((c) => wrap(c)),
      )
    }),
    { numRuns: 300 },
  )
})

/** Each command, then the invariants. */
function wrap(cmd: Cmd): Cmd {
  return {
    check: (m) => cmd.check(m),
    run: async (m, r) => {
      await cmd.run(m, r)
      invariants(m, r)
    },
    toString: () => cmd.toString(),
  }
}
