/**
 * docs/ROTATION.md's single-host runbook, run exactly as written (its `npm run keys -- ...`
 * lines, read from the document), on the default ring (a current and a next key per curve) that a gateway makes at
 * start-up, in both stores, with that gateway running. After every command: it exited 0, the ring
 * lists no duplicate kid or HPKE key id and nothing invalid, and the gateway publishes no revoked
 * key. Also: out-of-range durations are usage errors (exit 2).
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSql } from '../../../src/db/sql.js'
import { createTestDatabase, realServer, type TestDatabase } from '../../support/db.js'
import { tempDir } from '../../support/keys.js'
import { childEnv, start, type Running } from '../../support/process.js'

const exec = promisify(execFile)

/** The runbook's commands, section by section, as docs/ROTATION.md writes them. */
async function runbook(section: string): Promise<string[]> {
  const text = await readFile('docs/ROTATION.md', 'utf8')
  const start = text.indexOf(`\n## ${section}`)
  expect(start, section).toBeGreaterThan(0)
  const end = text.indexOf('\n## ', start + 1)
  return [
    ...text.slice(start, end === -1 ? undefined : end).matchAll(/^ *npm run keys -- (.*)$/gm),
  ].map((m) => m[1]!.replace(/\s+#.*$/, '').trim())
}

async function keys(args: string[], env: Record<string, string>) {
  try {
    const r = await exec(process.execPath, ['--import', 'tsx', 'scripts/keys.ts', ...args], {
      env: childEnv(env),
    })
    return { code: 0, stdout: r.stdout, stderr: r.stderr }
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string }
    return { code: err.code, stdout: err.stdout, stderr: err.stderr }
  }
}

interface Row {
  kid: string
  crv: string
  state: string
  /** current or next (a published key), else '-'. */
  role: string
}

const rows = (list: string): Row[] =>
  list
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split('\t'))
    .map((cols) => ({ kid: cols[0]!, crv: cols[1]!, state: cols[2]!, role: cols.at(-1)! }))

let db: TestDatabase
const cleanup: (() => Promise<unknown>)[] = []
beforeAll(async () => {
  db = await createTestDatabase()
})
afterAll(async () => {
  for (const f of cleanup.reverse()) await f()
  await db?.close()
})

// A gateway process on the postgres store needs a real server (the embedded one serves one
// client at a time): CI's second pass, with DATABASE_URL.
const STORES = realServer ? (['dir', 'postgres'] as const) : (['dir'] as const)

describe.each(STORES)('the runbook on the %s store', (kind) => {
  it('runs every command of the routine and the emergency sections on the default ring', async () => {
    const dir = await tempDir('sealed-runbook-')
    cleanup.push(() => rm(dir, { recursive: true, force: true }))
    const schema = `runbook_${randomBytes(5).toString('hex')}`
    const env: Record<string, string> = {
      KEYS_DIR: join(dir, 'keys'),
      DATA_DIR: join(dir, 'data'),
      KEYS_POLL_INTERVAL: '1',
      JWKS_MAX_AGE: '60',
      PORT: '0',
      HOST: '127.0.0.1',
      AUDIT_HMAC_KEY: randomBytes(32).toString('hex'),
      ...(kind === 'postgres'
        ? {
            KEY_STORE: 'postgres',
            DATABASE_URL: db.url,
            KEYS_PASSPHRASE: randomBytes(16).toString('hex'),
            ...(realServer ? { DATABASE_SCHEMA: schema } : {}),
          }
        : {}),
    }
    if (kind === 'postgres' && realServer) {
      const admin = createSql({ url: db.url, max: 1 })
      await admin`create schema ${admin(schema)}`
      await admin.end()
      cleanup.push(async () => {
        const sql = createSql({ url: db.url, max: 1 })
        await sql`drop schema ${sql(schema)} cascade`
        await sql.end()
      })
    } else if (kind === 'postgres') {
      await db.sql`delete from key_ring_keys`
      await db.sql`update key_ring set version = 0, generation = 0, ring_salt = null, ring_check = null, ring_mac = null`
    }
    // The gateway makes the default ring (one P-256, one X25519 key) and follows the store.
    const gateway: Running = start(
      process.execPath,
      ['--import', 'tsx', 'src/index.ts'],
      childEnv(env),
    )
    cleanup.push(() => gateway.stop())
    const [, url] = await gateway.waitFor(/listening on (http:\/\/\S+)/)
    const jwks = async () =>
      ((await (await fetch(`${url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] })
        .keys
    const list = async () => {
      const r = await keys(['list'], env)
      expect(r.code, r.stderr).toBe(0)
      const listed = rows(r.stdout)
      expect(listed.map((k) => k.state)).not.toContain('invalid')
      expect(new Set(listed.map((k) => k.kid)).size).toBe(listed.length)
      return listed
    }
    const run = async (command: string, vars: Record<string, string> = {}) => {
      let line = command.replace('http://127.0.0.1:8080', url!)
      for (const [name, value] of Object.entries(vars)) line = line.replace(`<${name}>`, value)
      const r = await keys(line.split(/\s+/), env)
      expect(r.code, `${line}: ${r.stderr}`).toBe(0)
      return r
    }
    const initial = await list()
    // A current and a next key per curve.
    expect(initial.map((k) => k.crv).sort()).toEqual(
      ['P-256', 'X-Wing', 'X25519'].flatMap((c) => [c, c]),
    )
    expect(initial.map((k) => k.role).sort()).toEqual([
      ...Array(3).fill('current'),
      ...Array(3).fill('next'),
    ])

    // Routine rotation, each command exactly as written.
    const routine = await runbook('Routine rotation')
    expect(routine.map((c) => c.split(' ')[0])).toEqual(['rotate', 'publish', 'list', 'retire'])
    const rotated = await run(routine[0]!)
    const newKids = rotated.stdout.trim().split('\n')
    expect(newKids).toHaveLength(3)
    await run(routine[1]!)
    await run(routine[2]!)
    // The new keys publish after the default delay (three poll intervals); then the old retire.
    await expect
      .poll(async () => (await list()).filter((k) => newKids.includes(k.kid)).map((k) => k.state), {
        timeout: 15_000,
        interval: 500,
      })
      .toEqual(['active', 'active', 'active'])
    // The old current keys are retiring; the next keys are current, the new keys next.
    const rotatedRing = await list()
    const retiring = rotatedRing.filter((k) => k.state === 'retiring')
    expect(retiring.map((k) => k.kid).sort()).toEqual(
      initial
        .filter((k) => k.role === 'current')
        .map((k) => k.kid)
        .sort(),
    )
    expect(rotatedRing.filter((k) => newKids.includes(k.kid)).map((k) => k.role)).toEqual([
      'next',
      'next',
      'next',
    ])
    for (const old of retiring) await run(routine[3]!, { 'old kid': old.kid })
    await list()

    // Emergency: the P-256 key is compromised.
    const emergency = await runbook('Emergency: a private key is compromised')
    expect(emergency.map((c) => c.split(' ')[0])).toEqual(['revoke', 'publish'])
    const compromised = (await list()).find((k) => k.crv === 'P-256' && k.role === 'current')!
    const successor = (await list()).find((k) => k.crv === 'P-256' && k.role === 'next')!
    const revoked = await run(emergency[0]!, { kid: compromised.kid })
    const newNext = revoked.stdout.trim()
    await run(emergency[1]!)
    const after = await list()
    expect(after.find((k) => k.kid === compromised.kid)?.state).toBe('revoked')
    // No gap: the next key is the current one at once; a new next key is pending.
    expect(after.find((k) => k.kid === successor.kid)).toMatchObject({
      state: 'active',
      role: 'current',
    })
    // Pending for three poll intervals (3 s here): a slow machine may list it published already.
    expect(['pending', 'active']).toContain(after.find((k) => k.kid === newNext)?.state)
    // The new next key is published after the delay.
    await expect
      .poll(async () => (await list()).find((k) => k.kid === newNext)?.role, {
        timeout: 15_000,
        interval: 500,
      })
      .toBe('next')
    // The running gateway has followed: the revoked key is not published.
    await expect
      .poll(async () => (await jwks()).map((k) => k.kid), { timeout: 5000 })
      .not.toContain(compromised.kid)
    const doctor = await keys(['doctor'], env)
    expect(doctor.stdout).not.toMatch(/duplicate|left out/)
  }, 240_000)
})

describe('durations out of range', () => {
  it.each([
    ['rotate', '--grace', '367d'],
    ['rotate', '--grace', '99999999999999999999'],
    ['rotate', '--publish-delay', '8d'],
    ['generate', '--publish-delay', '10000000000h'],
  ])('%s %s %s is a usage error (exit 2) and changes nothing', async (command, option, value) => {
    const dir = await tempDir('sealed-runbook-')
    cleanup.push(() => rm(dir, { recursive: true, force: true }))
    const r = await keys([command, option, value, '--dir', dir], { KEYS_POLL_INTERVAL: '1' })
    expect(r.code, r.stderr).toBe(2)
    expect(r.stderr).toContain(option)
    const listed = await keys(['list', '--dir', dir], {})
    expect(rows(listed.stdout)).toEqual([])
  })
})
