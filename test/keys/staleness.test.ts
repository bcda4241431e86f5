/**
 * The staleness state machine (src/keys/ring/staleness.ts): a ring keeps decrypting while its
 * store was read no longer ago than the bound (KEYS_FAIL_CLOSED_AFTER), then refuses until a read
 * succeeds; each change between decrypting and refusing is reported once.
 */
import { describe, expect, it } from 'vitest'
import { freshnessAt, freshnessWatch } from '../../src/keys/ring/staleness.js'

const t0 = new Date('2026-06-01T00:00:00Z')
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000)

describe('freshnessAt', () => {
  it('keeps decrypting up to the bound after the last read, and fails closed after it', () => {
    expect(freshnessAt(t0, at(0), 30_000)).toEqual({ state: 'current' })
    expect(freshnessAt(t0, at(30), 30_000)).toEqual({ state: 'current' })
    expect(freshnessAt(t0, at(30.001), 30_000)).toEqual({ state: 'fail-closed', since: t0 })
    expect(freshnessAt(t0, at(86_400), 30_000)).toEqual({ state: 'fail-closed', since: t0 })
  })

  it('never fails closed without a bound', () => {
    expect(freshnessAt(t0, at(86_400), undefined)).toEqual({ state: 'current' })
  })
})

describe('freshnessWatch', () => {
  it('reports the change to refusing once, and the change back once', () => {
    let now = at(0)
    const changes: boolean[] = []
    const watch = freshnessWatch({
      boundMs: 30_000,
      clock: () => now,
      onChange: (failClosed) => changes.push(failClosed),
    })
    expect(watch.check(t0).state).toBe('current')
    now = at(31)
    expect(watch.check(t0)).toEqual({ state: 'fail-closed', since: t0 })
    now = at(40)
    expect(watch.check(t0).state).toBe('fail-closed')
    expect(changes).toEqual([true])
    // A read succeeds: decrypting again, reported once.
    expect(watch.check(at(40)).state).toBe('current')
    now = at(45)
    expect(watch.check(at(40)).state).toBe('current')
    expect(changes).toEqual([true, false])
    // The bound counts from the latest read, not the first one.
    now = at(71)
    expect(watch.check(at(40)).state).toBe('fail-closed')
    expect(changes).toEqual([true, false, true])
  })

  it('reports nothing while every read comes within the bound', () => {
    let now = at(0)
    const changes: boolean[] = []
    const watch = freshnessWatch({
      boundMs: 30_000,
      clock: () => now,
      onChange: (failClosed) => changes.push(failClosed),
    })
    for (let s = 0; s <= 300; s += 5) {
      now = at(s)
      expect(watch.check(at(Math.max(0, s - 29))).state).toBe('current')
    }
    expect(changes).toEqual([])
  })
})
