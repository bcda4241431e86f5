/**
 * A key command killed (SIGKILL) in the middle of its write, on both stores: the directory store
 * between writing a temporary file and renaming it, the postgres store while its transaction is
 * open. After each kill the ring loads and its MAC verifies, kids and HPKE key ids are unique,
 * every key it accepts opens (nothing half-written is used), a gateway following the ring stays
 * ready on the store's version, and the same command run again succeeds (and the gateway follows
 * it; the next kill's check opens the key it added).
 */
import { watch } from 'node:fs'
import { readdir, rm, utimes } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSql, type Sql } from '../../../src/db/sql.js'
import { ringFromStore } from '../../../src/keys/ring/follow.js'
import type { OpenedKey } from '../../../src/keys/ring/open-key.js'
import type { OpenedXWingKey } from '../../../src/keys/ring/hybrid-key.js'
import { openKeyStore, type KeyStoreSettings } from '../../../src/keys/stores/open-store.js'
import { tempDir } from '../../support/keys.js'
import { needs, REAL_SERVER } from '../../support/needs.js'
import { childEnv, start, type Running } from '../../support/process.js'
import { gatewayArgs, runScript, scriptArgs } from '../../support/scripts.js'

const realServer = process.env.DATABASE_URL
const passphrase = randomBytes(16).toString('hex')
/** A rotation of one curve, published at once: each run adds one key and writes the ring. */
const ROTATE = ['rotate', '--curve', 'P-256', '--grace', '1h', '--publish-delay', '0', '--force']
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** What every command and gateway of one store shares. */
function storeEnv(extra: Record<string, string>): Record<string, string> {
  return {
    KEYS_PASSPHRASE: passphrase,
    KEYS_POLL_INTERVAL: '1',
    JWKS_MAX_AGE: '1',
    KEYS_AUTOGENERATE: 'false',
    AUDIT_HMAC_KEY: 'c'.repeat(64),
    ...extra,
  }
}

function keysProcess(args: string[], env: Record<string, string>): Running {
  const [command, argv] = scriptArgs('keys', args)
  return start(command, argv, childEnv(env))
}

/** SIGKILL to the command's process group; one that has already ended is not an error. */
const kill = (running: Running) => {
  try {
    process.kill(-running.child.pid!, 'SIGKILL')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error
  }
}

/**
 * The ring as a gateway would take it: authentic, no entry left out, ids unique, every key it
 * accepts opened. `opened` carries keys across calls, as a following gateway does.
 */
async function checkRing(
  settings: KeyStoreSettings,
  opened: Map<string, OpenedKey | OpenedXWingKey>,
): Promise<number> {
  const store = openKeyStore(settings, { listen: false })
  try {
    const stored = await store.read()
    expect(stored.authenticity).toBe('authentic')
    expect(stored.invalid).toEqual([])
    const kids = stored.entries.map((e) => e.kid)
    const ids = stored.entries.map((e) => e.hpkeKeyId)
    expect(new Set(kids).size).toBe(kids.length)
    expect(new Set(ids).size).toBe(ids.length)
    const errors: unknown[] = []
    const ring = await ringFromStore(stored, opened, (e) => errors.push(e))
    expect(errors).toEqual([])
    expect(ring.active().map((k) => k.crv)).toContain('P-256')
    expect(await store.version()).toBe(stored.version)
    return stored.version
  } finally {
    await store.close()
  }
}

/** The version of the ring the store holds now (after a command that ran to its end). */
async function storeVersion(settings: KeyStoreSettings): Promise<number> {
  const store = openKeyStore(settings, { listen: false })
  try {
    return await store.version()
  } finally {
    await store.close()
  }
}

/** The gateway is ready on the store's ring version within a few polls. */
async function follows(url: string, version: number): Promise<void> {
  const deadline = Date.now() + 8000
  let last = ''
  while (Date.now() < deadline) {
    const res = await fetch(`${url}/health/ready`)
    await res.arrayBuffer()
    last = `${res.status} ${res.headers.get('key-ring-version')}`
    if (last === `200 ${version}`) return
    await sleep(100)
  }
  throw new Error(`gateway not ready on version ${version}: ${last}`)
}

async function startGateway(env: Record<string, string>): Promise<[Running, string]> {
  const [command, argv] = gatewayArgs()
  const running = start(command, argv, childEnv({ HOST: '127.0.0.1', PORT: '0', ...env }))
  const [, url] = await running.waitFor(/listening on (http:\/\/\S+)/, 30_000)
  return [running, url!]
}

describe('a key command killed while it writes the directory store', () => {
  const dataSchema = `crash_data_${randomBytes(5).toString('hex')}`
  let dir: string
  let data: string
  let env: Record<string, string>
  let gateway: Running | undefined
  let url: string
  const opened = new Map<string, OpenedKey | OpenedXWingKey>()

  beforeAll(async () => {
    dir = await tempDir('sealed-crash-keys-')
    data = await tempDir('sealed-crash-data-')
    env = storeEnv({ KEY_STORE: 'dir', KEYS_DIR: dir })
    for (const args of [
      ['generate', '--curve', 'P-256'],
      ['generate', '--curve', 'X25519', '--publish-delay', '0', '--force'],
    ]) {
      const r = await runScript('keys', args, env)
      expect(r.code, r.stderr).toBe(0)
    }
    // Its searches' database: the real server when there is one (it starts faster than PGlite).
    if (realServer) {
      const admin = createSql({ url: realServer, max: 1 })
      await admin`create schema ${admin(dataSchema)}`
      await admin.end()
    }
    const database: Record<string, string> = realServer
      ? { DATABASE_URL: realServer, DATABASE_SCHEMA: dataSchema }
      : { DATA_DIR: data }
    ;[gateway, url] = await startGateway({ ...env, ...database, SEED_COUNT: '0' })
  }, 60_000)

  afterAll(async () => {
    await gateway?.stop()
    expect(gateway?.output() ?? '').not.toMatch(/"d":|PRIVATE KEY/)
    await rm(dir, { recursive: true, force: true })
    await rm(data, { recursive: true, force: true })
    if (realServer) {
      const admin = createSql({ url: realServer, max: 1 })
      await admin`drop schema if exists ${admin(dataSchema)} cascade`
      await admin.end()
    }
  })

  it('leaves a ring that loads, verifies and follows, and the command succeeds again', async () => {
    const settings: KeyStoreSettings = { kind: 'dir', dir, passphrase }
    // The key file's temporary file, then the manifest's: each write of a rotation.
    const targets = [/\.private\.jwk\.jwe\.[0-9a-f]+\.tmp$/, /^manifest\.json\.[0-9a-f]+\.tmp$/]
    const landed = [0, 0]
    for (let attempt = 0; attempt < 4; attempt++) {
      const target = targets[attempt % 2]!
      const running = keysProcess(ROTATE, env)
      let killed = false
      const watcher = watch(dir, (_event, name) => {
        if (!killed && name && target.test(String(name))) {
          killed = true
          kill(running)
        }
      })
      await running.stop({ group: false })
      watcher.close()
      // A temporary file left behind: the kill came between its write and its rename.
      if ((await readdir(dir)).some((f) => target.test(f))) landed[attempt % 2]!++

      await follows(url, await checkRing(settings, opened))
      const again = await runScript('keys', ROTATE, env)
      expect(again.code, again.stderr).toBe(0)
      await follows(url, await storeVersion(settings))
    }
    await checkRing(settings, opened)
    process.stdout.write(
      `dir store: kills between write and rename: key file ${landed[0]}/2, manifest ${landed[1]}/2\n`,
    )
    expect(landed[0]! + landed[1]!).toBeGreaterThan(0)
    let doctor = await runScript('keys', ['doctor'], env)
    expect(doctor.code, doctor.stdout).toBe(0)
    // The kills' temporary files, a minute later: doctor names each one (all sealed: warnings).
    const leftovers = (await readdir(dir)).filter((f) => targets.some((t) => t.test(f)))
    expect(leftovers.length).toBe(landed[0]! + landed[1]!)
    const old = new Date(Date.now() - 120_000)
    for (const file of leftovers) await utimes(`${dir}/${file}`, old, old)
    doctor = await runScript('keys', ['doctor'], env)
    expect(doctor.code, doctor.stdout).toBe(0)
    for (const file of leftovers) {
      expect(doctor.stdout).toMatch(
        new RegExp(
          `^warning ${file.replaceAll('.', '\\.')}: an interrupted write .*; delete it once no keys command is running$`,
          'm',
        ),
      )
    }
  }, 90_000)
})

describe.runIf(needs(realServer, REAL_SERVER))(
  'a key command killed while its transaction is open (real PostgreSQL)',
  () => {
    const schema = `crash_${randomBytes(5).toString('hex')}`
    let env: Record<string, string>
    let sql: Sql
    let gateway: Running | undefined
    let url: string
    const opened = new Map<string, OpenedKey | OpenedXWingKey>()
    const settings = (): KeyStoreSettings => ({
      kind: 'postgres',
      dir: '',
      passphrase,
      databaseUrl: realServer,
      databaseSchema: schema,
    })
    const generation = async () =>
      Number((await sql<{ generation: string }[]>`select generation from key_ring`)[0]!.generation)

    beforeAll(async () => {
      env = storeEnv({ KEY_STORE: 'postgres', DATABASE_URL: realServer!, DATABASE_SCHEMA: schema })
      for (const args of [
        ['generate', '--curve', 'P-256'],
        ['generate', '--curve', 'X25519', '--publish-delay', '0', '--force'],
      ]) {
        const r = await runScript('keys', args, env)
        expect(r.code, r.stderr).toBe(0)
      }
      sql = createSql({ url: realServer!, max: 1, searchPath: schema })
      ;[gateway, url] = await startGateway(env)
    }, 60_000)

    afterAll(async () => {
      await gateway?.stop()
      expect(gateway?.output() ?? '').not.toMatch(/"d":|PRIVATE KEY/)
      await sql`drop schema ${sql(schema)} cascade`
      await sql.end()
    })

    it('leaves the ring as it was, which loads, verifies and follows, and the command succeeds again', async () => {
      let landed = 0
      for (let attempt = 0; attempt < 2; attempt++) {
        const before = await generation()
        const running = keysProcess(ROTATE, env)
        // The change's transaction (its row lock on key_ring gives it an xid), open while the
        // command proves the passphrase and seals the new key: the kill lands before its commit.
        let open = false
        while (running.child.exitCode === null && !open) {
          const rows = await sql`select pid from pg_stat_activity
            where datname = current_database() and pid <> pg_backend_pid()
              and state in ('idle in transaction', 'active') and backend_xid is not null
              and (query like '%key_ring%' or query like '%now() as now%')
              and query not like '%schema_migrations%'`
          open = rows.length > 0
          if (!open) await sleep(5)
        }
        expect(open).toBe(true)
        await sleep(Math.random() * 200)
        kill(running)
        await running.stop({ group: false })
        // Killed before its commit: nothing of it is in the ring.
        if ((await generation()) === before) landed++

        await follows(url, await checkRing(settings(), opened))
        const again = await runScript('keys', ROTATE, env)
        expect(again.code, again.stderr).toBe(0)
        expect(await generation()).toBeGreaterThan(before)
        await follows(url, await storeVersion(settings()))
      }
      await checkRing(settings(), opened)
      process.stdout.write(`postgres store: kills with the transaction open: ${landed}/2\n`)
      expect(landed).toBeGreaterThan(0)
    }, 90_000)
  },
)
