/**
 * The custody changes with destruction, driven by random command sequences (fast-check
 * `fc.commands`) on the pure ring core, as every store runs it (settle, then the change). After
 * every step: no entry ever leaves the ring, kids and HPKE key ids stay unique (a destroyed
 * key's id is never given again), a destroyed key stays destroyed at the time it was destroyed
 * and is never accepted nor published, and destroy succeeds only on a retired or revoked key.
 */
import fc from 'fast-check'
import { expect, it } from 'vitest'
import { destroyKey, scheduleDestroy, sweepDue } from '../../src/keys/custody/destroy.js'
import { retireKey, revokeKey, settle, stageRotation } from '../../src/keys/custody/staging.js'
import type { KeyEntry } from '../../src/keys/stores/key-store.js'
import { isAccepted, isPublished, nextHpkeKeyId, stateAt } from '../../src/keys/stores/manifest.js'

interface Real {
  entries: KeyEntry[]
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

function newKey(real: Real, crv: (typeof CURVES)[number]): KeyEntry {
  real.made++
  return {
    kid: `kid-${real.made}`,
    hpkeKeyId: nextHpkeKeyId(real.entries),
    crv,
    state: 'active',
    created: real.now.toISOString(),
    notAfter: null,
  }
}

/** Runs a change as a store does: settle to now, then apply; a refused change changes nothing. */
function change(real: Real, apply: (entries: KeyEntry[]) => void): boolean {
  const copy = structuredClone(real.entries)
  settle(copy, real.now)
  try {
    apply(copy)
  } catch (e) {
    expect((e as { code?: string }).code).toMatch(/^ERR_KEYS_/)
    return false
  }
  real.entries = copy
  return true
}

const pick = (real: Real, i: number) => real.entries[i % real.entries.length]?.kid ?? 'none'

class Generate implements Cmd {
  constructor(readonly crv: (typeof CURVES)[number]) {}
  check = () => true
  async run(m: Model, r: Real) {
    if (change(r, (e) => e.push(newKey(r, this.crv)))) m.count++
  }
  toString = () => `generate(${this.crv})`
}
class Rotate implements Cmd {
  constructor(
    readonly crv: (typeof CURVES)[number],
    readonly delay: number,
  ) {}
  check = () => true
  async run(m: Model, r: Real) {
    const ok = change(r, (e) =>
      stageRotation(e, newKey(r, this.crv), {
        graceSeconds: 30,
        publishDelaySeconds: this.delay,
        now: r.now,
      }),
    )
    if (ok) m.count++
  }
  toString = () => `rotate(${this.crv}, ${this.delay})`
}
class Retire implements Cmd {
  constructor(readonly i: number) {}
  check = () => true
  async run(_m: Model, r: Real) {
    change(r, (e) => retireKey(e, pick(r, this.i), r.now, true))
  }
  toString = () => `retire(${this.i})`
}
class Revoke implements Cmd {
  constructor(readonly i: number) {}
  check = () => true
  async run(_m: Model, r: Real) {
    change(r, (e) => revokeKey(e, pick(r, this.i), r.now))
  }
  toString = () => `revoke(${this.i})`
}
class Destroy implements Cmd {
  constructor(readonly i: number) {}
  check = () => true
  async run(m: Model, r: Real) {
    const kid = pick(r, this.i)
    const before = r.entries.find((k) => k.kid === kid)
    const state = before && stateAt(before, r.now)
    const ok = change(r, (e) => destroyKey(e, kid, r.now))
    expect(ok).toBe(state === 'retired' || state === 'revoked' || state === 'destroyed')
    if (ok && !m.destroyed.has(kid)) m.destroyed.set(kid, r.now.toISOString())
  }
  toString = () => `destroy(${this.i})`
}
class Schedule implements Cmd {
  constructor(
    readonly i: number,
    readonly seconds: number,
  ) {}
  check = () => true
  async run(_m: Model, r: Real) {
    const at = new Date(+r.now + this.seconds * 1000)
    change(r, (e) => scheduleDestroy(e, pick(r, this.i), at, r.now))
  }
  toString = () => `schedule(${this.i}, ${this.seconds})`
}
class Sweep implements Cmd {
  check = () => true
  async run(m: Model, r: Real) {
    let swept: KeyEntry[] = []
    change(r, (e) => void (swept = sweepDue(e, r.now)))
    for (const k of swept) if (!m.destroyed.has(k.kid)) m.destroyed.set(k.kid, r.now.toISOString())
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
  expect(r.entries).toHaveLength(m.count)
  expect(new Set(r.entries.map((k) => k.kid)).size).toBe(m.count)
  expect(new Set(r.entries.map((k) => k.hpkeKeyId)).size).toBe(m.count)
  for (const k of r.entries) {
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
      index.map((i) => new Retire(i)),
      index.map((i) => new Revoke(i)),
      index.map((i) => new Destroy(i)),
      fc.tuple(index, fc.nat(60)).map(([i, s]) => new Schedule(i, s)),
      fc.constant(new Sweep()),
      fc.nat(40).map((s) => new Advance(s)),
    ],
    { maxCommands: 40 },
  )
  await fc.assert(
    fc.asyncProperty(commands, async (cmds) => {
      const setup = () => ({
        model: { destroyed: new Map<string, string>(), count: 0 },
        real: { entries: [], now: new Date('2026-06-01T00:00:00Z'), made: 0 } as Real,
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
