/**
 * The key directory watch survives the directory being replaced, several times in a row: by
 * `mv` (a new directory under the same name) and by an orchestrator's `..data` symlink swap
 * (Kubernetes secret and config map volumes), and falls back to polling when no event comes.
 * Each round revokes the active key: a missed change would leave a revoked key accepted.
 */
import { cp, mkdir, readdir, rename, rm, symlink } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { revoke } from '../../src/keys/custody/lifecycle.js'
import { addGeneratedKey } from '../../src/keys/stores/dir-files.js'
import { capturingLogger } from '../support/app.js'
import { followDir, type FollowingDir } from '../support/following.js'
import { tempDir } from '../support/keys.js'

const dirs: string[] = []
const rings: FollowingDir[] = []
afterAll(async () => {
  for (const r of rings) await r.stop()
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

async function root(): Promise<string> {
  const dir = await tempDir('sealed-watch-')
  dirs.push(dir)
  return dir
}

/** Polls `check` until it holds (true) or `ms` have passed (false). */
async function until(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (check()) return true
    await new Promise((r) => setTimeout(r, 10))
  }
  return check()
}

/** One custodian round in a staging directory: revoke the active key, generate a new one. */
async function nextRound(staging: string, active: string): Promise<string> {
  await revoke(staging, active)
  return (await addGeneratedKey(staging, 'P-256')).kid
}

/** Ships `staging` as an operator does with mv: copy beside, swap the names, remove the old. */
async function mvSwap(staging: string, dir: string): Promise<void> {
  await cp(staging, `${dir}.new`, { recursive: true })
  await rename(dir, `${dir}.old`)
  await rename(`${dir}.new`, dir)
  await rm(`${dir}.old`, { recursive: true })
}

const accepted = (ring: FollowingDir) =>
  ring
    .current()
    .keys.map((k) => k.kid)
    .sort()

/**
 * Follows `dir` as the gateway does with KEYS_WATCH; `events` only (file events, no store poll)
 * or `poll` only (no file events, the gateway's poll every 100 ms).
 */
async function watching(dir: string, mode: 'events' | 'poll') {
  const { logger } = capturingLogger()
  const ring = await followDir(
    dir,
    mode === 'events'
      ? { logger, subscribe: true }
      : { logger, subscribe: false, pollIntervalMs: 100 },
  )
  rings.push(ring)
  return ring
}

describe('the key directory watch', () => {
  it('follows a directory replaced by mv, three times in a row', async () => {
    const base = await root()
    const dir = join(base, 'keys')
    const staging = join(base, 'staging')
    let kid = (await addGeneratedKey(staging, 'P-256')).kid
    await cp(staging, dir, { recursive: true })
    const ring = await watching(dir, 'events')
    expect(accepted(ring)).toEqual([kid])
    for (let round = 1; round <= 3; round++) {
      const revoked = kid
      kid = await nextRound(staging, revoked)
      await mvSwap(staging, dir)
      expect(await until(() => accepted(ring).join() === kid, 5000), `round ${round}`).toBe(true)
      expect(ring.current().get(revoked)).toBeUndefined()
    }
    // A change inside the third directory is still seen.
    await revoke(dir, kid)
    expect(await until(() => accepted(ring).length === 0, 5000)).toBe(true)
  })

  it.each([
    ['the directory holding ..data', ''],
    ['..data itself', '..data'],
  ])('follows ..data symlink swaps, three times in a row, watching %s', async (_what, sub) => {
    const base = await root()
    const volume = join(base, 'volume')
    const staging = join(base, 'staging')
    let kid = (await addGeneratedKey(staging, 'P-256')).kid
    // The layout kubelet writes: a timestamped directory, ..data pointing to it, and a
    // symlink through ..data for each file.
    const publish = async (version: number) => {
      const target = `..v${version}`
      await cp(staging, join(volume, target), { recursive: true })
      for (const file of await readdir(staging)) {
        await symlink(join('..data', file), join(volume, file)).catch(() => undefined)
      }
      await symlink(target, join(volume, '..data_tmp'))
      await rename(join(volume, '..data_tmp'), join(volume, '..data'))
      if (version > 0) await rm(join(volume, `..v${version - 1}`), { recursive: true })
    }
    await mkdir(volume)
    await publish(0)
    const ring = await watching(join(volume, sub), 'events')
    expect(accepted(ring)).toEqual([kid])
    for (let round = 1; round <= 3; round++) {
      const revoked = kid
      kid = await nextRound(staging, revoked)
      await publish(round)
      expect(await until(() => accepted(ring).join() === kid, 5000), `round ${round}`).toBe(true)
      expect(ring.current().get(revoked)).toBeUndefined()
    }
  })

  it('sees a replaced directory by polling when no file event arrives', async () => {
    const base = await root()
    const dir = join(base, 'keys')
    const staging = join(base, 'staging')
    let kid = (await addGeneratedKey(staging, 'P-256')).kid
    await cp(staging, dir, { recursive: true })
    const ring = await watching(dir, 'poll')
    for (let round = 1; round <= 2; round++) {
      kid = await nextRound(staging, kid)
      await mvSwap(staging, dir)
      expect(await until(() => accepted(ring).join() === kid, 5000), `round ${round}`).toBe(true)
    }
  })

  it('keeps the ring it has while the directory is briefly gone', async () => {
    const base = await root()
    const dir = join(base, 'keys')
    const kid = (await addGeneratedKey(dir, 'P-256')).kid
    const ring = await watching(dir, 'poll')
    await rename(dir, join(base, 'keys.away'))
    await new Promise((r) => setTimeout(r, 400))
    expect(accepted(ring)).toEqual([kid])
    expect(ring.status().errors).toEqual(['ERR_KEYS_MANIFEST_MISSING'])
    expect(ring.status().staleSince).toBeInstanceOf(Date)
    await rename(join(base, 'keys.away'), dir)
    expect(await until(() => ring.status().staleSince === undefined, 5000)).toBe(true)
    expect(accepted(ring)).toEqual([kid])
  })
})
