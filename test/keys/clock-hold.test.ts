/**
 * A following ring (src/keys/ring/follow.ts) against a store with a clock: it measures its skew at
 * start and at every poll, holds publication while the skew is beyond the bound (logged once,
 * reported), and lets go once the clock is back within it. The store is a real key directory
 * whose `now` stands in for the database's clock, the one fake of this unit test.
 */
import { rm } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addGeneratedKey } from '../../src/keys/custody/bootstrap.js'
import { rotateKeys } from '../../src/keys/custody/custody.js'
import { followKeyStore } from '../../src/keys/ring/follow.js'
import { dirKeyStore } from '../../src/keys/stores/dir-store.js'
import { capturingLogger } from '../support/app.js'
import { tempDir } from '../support/keys.js'

let dir: string
beforeAll(async () => {
  dir = await tempDir('sealed-clock-hold-')
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const until = async (cond: () => boolean) => {
  for (let i = 0; !cond(); i++) {
    if (i > 200) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe('a following ring with a skewed clock', () => {
  it('holds publication beyond the bound, says why once, and lets go within it', async () => {
    const old = await addGeneratedKey(dir, 'P-256')
    // The database's clock, this host's minus `behind` ms: this host is ahead by as much.
    let behind = 30_000
    const store = { ...dirKeyStore(dir), now: async () => new Date(Date.now() - behind) }
    const { logger, lines } = capturingLogger()
    const skews: [number, boolean][] = []
    const keys = await followKeyStore(store, {
      logger,
      pollIntervalMs: 20,
      subscribe: false,
      maxClockSkewSeconds: 2,
      onClockSkew: (skew, holding) => skews.push([skew, holding]),
    })
    try {
      expect(keys.status().clockSkewSeconds).toBeGreaterThan(29.9)
      expect(skews[0]![1]).toBe(true)
      const [next] = await rotateKeys(store, { graceSeconds: 3600, publishDelaySeconds: 15 })
      await until(() => keys.current().get(next!.added.kid) !== undefined)

      // By this host's clock (30 s ahead) the key would be published; by the database's, not yet.
      const ahead = new Date(Date.now() + 30_000)
      const published = () =>
        keys
          .current()
          .active(ahead)
          .map((k) => k.kid)
      expect(published()).toEqual([old.kid])
      expect(keys.current().accepts(keys.current().get(next!.added.kid)!, ahead)).toBe(true)
      const warned = lines.filter((l) => l.includes('more than KEYS_MAX_CLOCK_SKEW'))
      expect(warned).toHaveLength(1)
      expect(JSON.parse(warned[0]!)).toMatchObject({ level: 40, maxClockSkewSeconds: 2 })

      behind = 0
      await until(() => skews.at(-1)![1] === false)
      expect(Math.abs(keys.status().clockSkewSeconds!)).toBeLessThan(1)
      expect(published()).toEqual([next!.added.kid])
      expect(lines.filter((l) => l.includes('back within KEYS_MAX_CLOCK_SKEW'))).toHaveLength(1)
    } finally {
      await keys.close()
      await store.close()
    }
  })

  it('measures nothing for a store without a clock (a key directory)', async () => {
    const { logger } = capturingLogger()
    const skews: number[] = []
    const keys = await followKeyStore(dirKeyStore(dir), {
      logger,
      pollIntervalMs: 0,
      subscribe: false,
      onClockSkew: (skew) => skews.push(skew),
    })
    expect(keys.status().clockSkewSeconds).toBeUndefined()
    expect(skews).toEqual([])
    await keys.close()
  })
})
