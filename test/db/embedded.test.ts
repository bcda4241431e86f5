import { spawnSync } from 'node:child_process'
import { lstat, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { chooseKey, encryptMbiJwe, fetchJwks, patientSearchUrl } from '@sealed-search/client'
import { LOCK_FILE, lockDataDir } from '../../src/db/data-dir-lock.js'
import { startEmbeddedDatabase } from '../../src/db/embedded.js'
import { createSql } from '../../src/db/sql.js'
import { seededMbi } from '../../src/db/seed.js'
import { tempDir } from '../support/keys.js'
import { childEnv, start, type Running } from '../support/process.js'
import { gatewayArgs, runScript } from '../support/scripts.js'

// Each test starts processes (and PGlite): generous limits for a loaded machine; no time is asserted.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 180_000 })

/** Every file and directory under `dir`, with its permission bits. */
async function modes(dir: string): Promise<Map<string, number>> {
  const found = new Map<string, number>()
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name)
    found.set(path, (await lstat(path)).mode & 0o777)
  }
  return found
}

async function countRows(dataDir: string): Promise<number> {
  const db = await startEmbeddedDatabase(dataDir)
  const sql = createSql({ url: db.url, max: 1 })
  try {
    const [row] = await sql<{ n: number }[]>`select count(*)::int as n from beneficiaries`
    return row!.n
  } finally {
    await sql.end()
    await db.close()
  }
}

// The embedded database only: a gateway process on a data directory, and scripts beside it.
describe('the embedded database while a gateway holds it', () => {
  let dir: string
  let dataDir: string
  let env: NodeJS.ProcessEnv
  let gateway: Running | undefined
  let gatewayPid: number
  let url: string

  beforeAll(async () => {
    dir = await tempDir()
    dataDir = join(dir, 'data', 'pglite')
    const vars = { PORT: '0', KEYS_DIR: join(dir, 'keys'), DATA_DIR: dataDir, SEED_COUNT: '25' }
    env = childEnv(vars)
    gateway = start(...gatewayArgs(), env)
    ;[, url] = (await gateway.waitFor(/listening on (http:\/\/\S+)/)) as [string, string]
    gatewayPid = Number((await gateway.waitFor(/"pid":(\d+),/))[1])
  })

  afterAll(async () => {
    await gateway?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it.each([
    ['seed', ['--count', '10']],
    ['legacy-hash', ['--iterations', '1', '--pepper-hex', '00ff']],
  ])('npm run %s refuses with exit 1 and names the process that holds it', async (name, args) => {
    const r = await runScript(name, args, { DATA_DIR: dataDir })
    expect(r.code).toBe(1)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toContain(`embedded database in ${dataDir} is in use by process ${gatewayPid}`)
    expect(r.stderr).toMatch(/DATABASE_URL/)
    expect(r.stdout).not.toMatch(/seeded|hashed/)
  })

  it('a second gateway on the same directory refuses with one line and exit 1', async () => {
    const r = spawnSync(...gatewayArgs(), { env, encoding: 'utf8' })
    expect(r.status).toBe(1)
    expect(r.stderr).toBe(
      `sealed-search: the embedded database in ${dataDir} is in use by process ${gatewayPid}; ` +
        'stop it first (PGlite serves one process: a second one would lose rows), ' +
        'or set DATABASE_URL to a PostgreSQL server\n',
    )
  })

  it('keeps serving every seeded row after the refusals', async () => {
    const key = chooseKey(await fetchJwks(`${url}/.well-known/jwks.json`), 'P-256')
    for (const i of [0, 12, 24]) {
      const res = await fetch(patientSearchUrl(url, await encryptMbiJwe(seededMbi(i), key)))
      expect(res.status).toBe(200)
      expect(((await res.json()) as { total: number }).total).toBe(1)
    }
  })

  it('once the gateway stops: owner-only files, no lock left, and a seed that keeps every row', async () => {
    process.kill(gatewayPid, 'SIGTERM')
    expect(await gateway!.stop({ group: false })).toBe(0)
    gateway = undefined
    const found = await modes(join(dir, 'data'))
    expect(found.size).toBeGreaterThan(500) // PGlite's whole cluster, not an empty directory
    const open = [...found].filter(([, mode]) => mode & 0o077)
    expect(open).toEqual([])
    expect(found.has(join(dataDir, LOCK_FILE))).toBe(false)

    const r = await runScript('seed', ['--count', '30'], { DATA_DIR: dataDir })
    expect(r.code).toBe(0)
    // 25 from the gateway's start + 2 sharing one MBI, then 5 more: none lost.
    expect(await countRows(dataDir)).toBe(32)
    const after = [...(await modes(join(dir, 'data')))].filter(([, mode]) => mode & 0o077)
    expect(after).toEqual([])
  })
})

describe('the data-directory lock', () => {
  let dir: string
  beforeAll(async () => {
    dir = await tempDir()
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('refuses a second lock in the same process, and gives the directory back on release', async () => {
    const lock = await lockDataDir(dir)
    await expect(lockDataDir(dir)).rejects.toMatchObject({ code: 'ERR_DB_EMBEDDED_IN_USE' })
    const holder = JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8'))
    expect(holder).toMatchObject({ pid: process.pid, host: hostname() })
    expect((await lstat(join(dir, LOCK_FILE))).mode & 0o777).toBe(0o600)
    await lock.release()
    expect(await readdir(dir)).not.toContain(LOCK_FILE)
    await (await lockDataDir(dir)).release()
  })

  it('takes over a lock left by a process that is gone, or by this pid before a restart', async () => {
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!
    for (const pid of [gone, process.pid]) {
      const lock = { pid, host: hostname(), since: 'before' }
      await writeFile(join(dir, LOCK_FILE), JSON.stringify(lock))
      const taken = await lockDataDir(dir)
      expect(JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8')).since).not.toBe(lock.since)
      await taken.release()
    }
  })

  it('refuses while the lock names a live process, or a process on another host', async () => {
    const live = { pid: process.ppid, host: hostname(), since: '' }
    await writeFile(join(dir, LOCK_FILE), JSON.stringify(live))
    await expect(lockDataDir(dir)).rejects.toMatchObject({
      code: 'ERR_DB_EMBEDDED_IN_USE',
      message: expect.stringContaining(`in use by process ${process.ppid};`),
    })
    const remote = { pid: 1, host: 'elsewhere.example', since: '' }
    await writeFile(join(dir, LOCK_FILE), JSON.stringify(remote))
    await expect(lockDataDir(dir)).rejects.toMatchObject({
      code: 'ERR_DB_EMBEDDED_IN_USE',
      message: expect.stringMatching(/process 1 on elsewhere\.example \(remove .* if it is gone\)/),
    })
    await rm(join(dir, LOCK_FILE))
  })
})
