/**
 * The staleness state machine (src/keys/ring/staleness.ts): a ring read from no host keeps
 * decrypting up to the bound (KEYS_FAIL_CLOSED_AFTER), then refuses until a read succeeds; each
 * change between decrypting and refusing is reported once.
 */
import { describe, expect, it } from 'vitest'
import { freshnessAt, freshnessWatch } from '../../src/keys/ring/staleness.js'

const t0 = new Date('2026-06-01T00:00:00Z')
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000)

describe('freshnessAt', () => {
  it('is current while the last attempt read the store', () => {
    expect(freshnessAt(undefined, at(1000), 30_000)).toEqual({ state: 'current' })
  })

  it('keeps decrypting up to the bound, and fails closed after it', () => {
    expect(freshnessAt(t0, at(0), 30_000)).toEqual({ state: 'unreadable', since: t0 })
    expect(freshnessAt(t0, at(30), 30_000)).toEqual({ state: 'unreadable', since: t0 })
    expect(freshnessAt(t0, at(30.001), 30_000)).toEqual({ state: 'fail-closed', since: t0 })
    expect(freshnessAt(t0, at(86_400), 30_000)).toEqual({ state: 'fail-closed', since: t0 })
  })

  it('never fails closed without a bound', () => {
    expect(freshnessAt(t0, at(86_400), undefined)).toEqual({ state: 'unreadable', since: t0 })
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
    expect(watch.check(undefined).state).toBe('current')
    expect(watch.check(t0).state).toBe('unreadable')
    now = at(31)
    expect(watch.check(t0).state).toBe('fail-closed')
    now = at(40)
    expect(watch.check(t0).state).toBe('fail-closed')
    expect(changes).toEqual([true])
    // A read succeeds: decrypting again, reported once.
    expect(watch.check(undefined).state).toBe('current')
    expect(watch.check(undefined).state).toBe('current')
    expect(changes).toEqual([true, false])
    // Unreadable again: the bound counts from the new failure, not the old one.
    now = at(100)
    expect(watch.check(at(95)).state).toBe('unreadable')
    now = at(126)
    expect(watch.check(at(95)).state).toBe('fail-closed')
    expect(changes).toEqual([true, false, true])
  })

  it('reports nothing while the store stays within the bound', () => {
    let now = at(0)
    const changes: boolean[] = []
    const watch = freshnessWatch({
      boundMs: 30_000,
      clock: () => now,
      onChange: (failClosed) => changes.push(failClosed),
    })
    for (let s = 0; s <= 30; s += 5) {
      now = at(s)
      expect(watch.check(t0).state).toBe('unreadable')
    }
    expect(watch.check(undefined).state).toBe('current')
    expect(changes).toEqual([])
  })
})
