/**
 * The authenticated key ring (src/keys/stores/ring-mac.ts) against a database writer, with real
 * PostgreSQL and gateway processes: un-revoking by UPDATE + NOTIFY from a role with no grants,
 * extending a key's life, moving a publishAt, copying an old authentic row back, rolling the whole
 * ring back. Every running instance refuses each (counted in
 * sealed_search_key_ring_reload_failures_total{code}), keeps refusing the revoked key, and an
 * instance started afterwards refuses to start on a tampered ring; `keys doctor --gateways` and
 * `keys status --gateways` name a rollback from the generation each instance applied. A custodian with the wrong
 * passphrase changes nothing (exit 1, naming the cause), and a gateway with it says so last.
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encryptMbi, patientSearchUrl } from '@sealed-search/client'
import { seed, seededMbi } from '../../src/db/seed.js'
import { createSql, type Sql } from '../../src/db/sql.js'
import { KEY_RING_CHANNEL } from '../../src/keys/stores/pg-listen.js'
import { tempDir } from '../support/keys.js'
import { childEnv, start, type Running } from '../support/process.js'

const exec = promisify(execFile)
const realServer = process.env.DATABASE_URL

interface Jwk {
  kid: string
  crv: string
}

describe.runIf(realServer)(
  'the authenticated key ring (real PostgreSQL, gateway processes)',
  () => {
    const schema = `ringauth_${randomBytes(5).toString('hex')}`
    const intruder = `ringauth_intruder_${randomBytes(4).toString('hex')}`
    const intruderPassword = randomBytes(12).toString('hex')
    const passphrase = randomBytes(16).toString('hex')
    const env: Record<string, string> = {
      KEY_STORE: 'postgres',
      DATABASE_URL: realServer!,
      DATABASE_SCHEMA: schema,
      KEYS_PASSPHRASE: passphrase,
      AUDIT_HMAC_KEY: randomBytes(32).toString('hex'),
      KEYS_POLL_INTERVAL: '1',
      JWKS_MAX_AGE: '1',
      KEYS_AUTOGENERATE: 'false',
      PORT: '0',
      HOST: '127.0.0.1',
    }
    let dir: string
    let sql: Sql
    const gateways: { url: string; running: Running }[] = []
    let a: Jwk // the P-256 key that gets revoked
    let b: Jwk // the P-256 key that stays

    async function keys(args: string[], extra: Record<string, string> = {}) {
      try {
        const r = await exec(process.execPath, ['--import', 'tsx', 'scripts/keys.ts', ...args], {
          env: childEnv({ ...env, ...extra }),
        })
        return { code: 0, stdout: r.stdout, stderr: r.stderr }
      } catch (e) {
        const err = e as { code: number; stdout: string; stderr: string }
        return { code: err.code, stdout: err.stdout, stderr: err.stderr }
      }
    }

    const startGateway = (extra: Record<string, string> = {}) =>
      start(process.execPath, ['--import', 'tsx', 'src/index.ts'], childEnv({ ...env, ...extra }))

    async function search(url: string, jwk: Jwk) {
      const token = await encryptMbi(seededMbi(1), jwk as never, { format: 'jwe' })
      const res = await fetch(patientSearchUrl(url, token))
      await res.arrayBuffer()
      return res.status
    }

    const jwksKids = async (url: string) =>
      ((await (await fetch(`${url}/.well-known/jwks.json`)).json()) as { keys: Jwk[] }).keys.map(
        (k) => k.kid,
      )

    const failures = async (url: string, code: string) => {
      const text = await (await fetch(`${url}/metrics`)).text()
      const m = new RegExp(
        `^sealed_search_key_ring_reload_failures_total\\{code="${code}"\\} (\\d+)`,
        'm',
      ).exec(text)
      return Number(m?.[1] ?? 0)
    }

    /** NOTIFY from a login role with no grants at all: anyone who can connect can send one. */
    async function notifyAsIntruder() {
      const url = new URL(realServer!)
      url.username = intruder
      url.password = intruderPassword
      const other = createSql({ url: url.toString(), max: 1 })
      try {
        await other`select pg_notify(${KEY_RING_CHANNEL}, ${`${schema}:1`})`
      } finally {
        await other.end()
      }
    }

    type Snapshot = { ring: Record<string, unknown>; rows: Record<string, unknown>[] }
    async function snapshot(): Promise<Snapshot> {
      const [ring] =
        await sql`select generation, version, ring_salt, ring_check, ring_mac from key_ring`
      const rows = await sql`select kid, state, not_after, publish_at, retire_at from key_ring_keys`
      return { ring: { ...ring! }, rows: rows.map((r) => ({ ...r })) }
    }
    async function restore(s: Snapshot) {
      await sql.begin(async (tx) => {
        for (const r of s.rows) {
          await tx`update key_ring_keys set state = ${r.state as string},
          not_after = ${r.not_after as Date | null}, publish_at = ${r.publish_at as Date | null},
          retire_at = ${r.retire_at as Date | null} where kid = ${r.kid as string}`
        }
        await tx`update key_ring set generation = ${s.ring.generation as string},
        version = ${s.ring.version as string}, ring_salt = ${s.ring.ring_salt as string},
        ring_check = ${s.ring.ring_check as string}, ring_mac = ${s.ring.ring_mac as string}`
      })
    }

    /** Every running instance refuses the revoked key and counts `code`; a new one will not start. */
    async function refusedEverywhere(code: string, newInstanceRefuses = true) {
      await new Promise((r) => setTimeout(r, 2500)) // two polls, and the NOTIFY
      for (const g of gateways) {
        expect(await search(g.url, a)).not.toBe(200)
        expect(await jwksKids(g.url)).not.toContain(a.kid)
        expect(await search(g.url, b)).toBe(200)
        expect(await failures(g.url, code)).toBeGreaterThan(0)
      }
      if (newInstanceRefuses) {
        const late = startGateway()
        await expect(late.waitFor(/listening on/, 30_000)).rejects.toThrow(
          /MAC does not match its entries/,
        )
        await late.stop()
      }
    }

    beforeAll(async () => {
      dir = await tempDir('sealed-ringauth-')
      const admin = createSql({ url: realServer!, max: 1 })
      await admin`create schema ${admin(schema)}`
      await admin.unsafe(`create role ${intruder} login password '${intruderPassword}'`)
      await admin.end()
      sql = createSql({ url: realServer!, max: 2, searchPath: schema })
      for (const args of [
        ['generate', '--curve', 'P-256'],
        ['generate', '--curve', 'P-256', '--publish-delay', '0', '--force'],
        ['generate', '--curve', 'X25519', '--publish-delay', '0', '--force'],
      ]) {
        const r = await keys(args)
        expect(r.code, r.stderr).toBe(0)
      }
      await seed(sql, { count: 5 })
      for (let i = 0; i < 2; i++) {
        const running = startGateway()
        const [, url] = await running.waitFor(/listening on (http:\/\/\S+)/)
        gateways.push({ url: url!, running })
      }
      const published = (await (
        await fetch(`${gateways[0]!.url}/.well-known/jwks.json`)
      ).json()) as {
        keys: Jwk[]
      }
      const p256 = published.keys.filter((k) => k.crv === 'P-256')
      a = p256[0]!
      b = p256[1]!
      expect(b).toBeDefined()
    }, 180_000)

    afterAll(async () => {
      for (const g of gateways) await g.running.stop()
      for (const g of gateways) expect(g.running.output()).not.toMatch(/"d":|PRIVATE KEY/)
      await sql`drop schema ${sql(schema)} cascade`
      await sql.unsafe(`drop role if exists ${intruder}`)
      await sql.end()
      await rm(dir, { recursive: true, force: true })
    })

    it('a wrong passphrase changes nothing: rotate and generate exit 1 naming the cause, and a gateway says so last', async () => {
      const before = await snapshot()
      const wrong = { KEYS_PASSPHRASE: 'not the passphrase' }
      for (const args of [
        ['rotate', '--curve', 'P-256', '--publish-delay', '3s', '--grace', '1h'],
        ['generate', '--curve', 'P-256'],
        ['revoke', b.kid],
      ]) {
        const r = await keys(args, wrong)
        expect(r.code, args.join(' ')).toBe(1)
        expect(r.stderr).toMatch(/ERR_KEYS_PASSPHRASE_WRONG|not this key ring's passphrase/)
      }
      expect(await snapshot()).toEqual(before)
      const gateway = startGateway(wrong)
      const code = await gateway.stop({ group: false })
      expect(code).not.toBe(0)
      const last = gateway.output().trim().split('\n').at(-1)!
      expect(last).toMatch(/KEYS_PASSPHRASE/)
      expect(last).not.toMatch(/keys -- generate/)
    }, 120_000)

    it('refuses an un-revoke by UPDATE and a NOTIFY from a role with no grants, on every instance and at start-up', async () => {
      for (const g of gateways) expect(await search(g.url, a)).toBe(200)
      const r = await keys(['revoke', a.kid])
      expect(r.code, r.stderr).toBe(0)
      await new Promise((r) => setTimeout(r, 1500))
      for (const g of gateways) expect(await search(g.url, a)).not.toBe(200)
      const revoked = await snapshot()

      await sql`update key_ring_keys set state = 'active', not_after = null where kid = ${a.kid}`
      await notifyAsIntruder()
      await refusedEverywhere('ERR_KEYS_RING_MAC')
      await restore(revoked)

      // A key's life extended: refused the same way.
      await sql`update key_ring_keys set state = 'retiring', not_after = '2099-01-01' where kid = ${a.kid}`
      await notifyAsIntruder()
      await refusedEverywhere('ERR_KEYS_RING_MAC', false)
      await restore(revoked)
    }, 180_000)

    it('refuses a moved publishAt, and an old authentic row copied back', async () => {
      const staged = await keys([
        'rotate',
        '--curve',
        'X25519',
        '--publish-delay',
        '1h',
        '--grace',
        '2h',
      ])
      expect(staged.code, staged.stderr).toBe(0)
      const pending = staged.stdout.trim()
      const good = await snapshot()
      await sql`update key_ring_keys set publish_at = now() - interval '1 minute' where kid = ${pending}`
      await refusedEverywhere('ERR_KEYS_RING_MAC', false)
      for (const g of gateways) expect(await jwksKids(g.url)).not.toContain(pending)
      await restore(good)

      // The revoked key's row as it was when it was active and authentic.
      await sql`update key_ring_keys set state = 'active', not_after = null, publish_at = null,
      retire_at = null where kid = ${a.kid}`
      await refusedEverywhere('ERR_KEYS_RING_MAC', false)
      await restore(good)
    }, 180_000)

    it('refuses the whole ring rolled back to an earlier authentic state on every instance that saw a later one', async () => {
      const old = await snapshot()
      const r = await keys(['retire', b.kid, '--force'])
      expect(r.code, r.stderr).toBe(0)
      const newer = await snapshot()
      expect(Number(newer.ring.generation)).toBeGreaterThan(Number(old.ring.generation))
      await new Promise((r) => setTimeout(r, 2000))
      // Roll everything back, MAC and generation included: authentic, but older.
      await restore(old)
      await new Promise((r) => setTimeout(r, 2500))
      for (const g of gateways) {
        expect(await failures(g.url, 'ERR_KEYS_RING_ROLLBACK')).toBeGreaterThan(0)
        expect(await search(g.url, a)).not.toBe(200)
        expect(await jwksKids(g.url)).not.toContain(b.kid)
      }
      await restore(newer)
    }, 120_000)

    it('keys doctor and keys status name a rollback of whole rows that every running instance refuses', async () => {
      // Every row of both tables copied aside, a change (a new row), and the old rows put back.
      await sql`create table aside_ring as select * from key_ring`
      await sql`create table aside_keys as select * from key_ring_keys`
      const r = await keys(['rotate', '--curve', 'P-256', '--publish-delay', '1h', '--grace', '2h'])
      expect(r.code, r.stderr).toBe(0)
      await sql`create table later_ring as select * from key_ring`
      await sql`create table later_keys as select * from key_ring_keys`
      const later = await generationOf('later_ring')
      await new Promise((r) => setTimeout(r, 2000))
      const before = await Promise.all(
        gateways.map((g) => failures(g.url, 'ERR_KEYS_RING_ROLLBACK')),
      )
      await putBack('aside')
      const old = await generationOf('key_ring')
      expect(Number(old)).toBeLessThan(Number(later))
      await new Promise((r) => setTimeout(r, 2500))
      for (const [n, g] of gateways.entries()) {
        expect(await failures(g.url, 'ERR_KEYS_RING_ROLLBACK')).toBeGreaterThan(before[n]!)
        expect(await search(g.url, a)).not.toBe(200)
        const ready = await fetch(`${g.url}/health/ready`)
        await ready.arrayBuffer()
        expect(ready.headers.get('key-ring-generation')).toBe(String(later))
      }
      // An instance started now has nothing to compare with: it takes the older generation.
      const late = startGateway()
      const [, lateUrl] = await late.waitFor(/listening on (http:\/\/\S+)/)
      try {
        const urls = [...gateways.map((g) => g.url), lateUrl!].join(',')
        const doctor = await keys(['doctor', '--gateways', urls])
        expect(doctor.code, doctor.stdout + doctor.stderr).toBe(1)
        for (const g of gateways) {
          expect(doctor.stdout).toContain(
            `the ring's generation ${old} is lower than generation ${later} that ${g.url} applied: a rollback`,
          )
        }
        expect(doctor.stdout).toMatch(
          new RegExp(`^ok +${lateUrl}: applied generation ${old}$`, 'm'),
        )
        const status = await keys(['status', '--gateways', urls])
        expect(status.code).toBe(1)
        expect(status.stdout).toContain(`generation ${old}`)
        expect(status.stdout.match(/: a rollback$/gm)).toHaveLength(gateways.length)
        expect(status.stdout).toMatch(/^not converged$/m)
        expect(`${doctor.stdout}${status.stdout}`).not.toMatch(/"d":|PRIVATE KEY/)
      } finally {
        await late.stop()
      }
      // The later rows back: authentic and current, so nothing is named.
      await putBack('later')
      await new Promise((r) => setTimeout(r, 2000))
      const doctor = await keys(['doctor', '--gateways', gateways.map((g) => g.url).join(',')])
      expect(doctor.stdout, doctor.stderr).not.toMatch(/a rollback/)
      expect(doctor.stdout).toMatch(/ring generation \d+: MAC verified/)
      await sql`drop table aside_ring, aside_keys, later_ring, later_keys`
    }, 120_000)

    async function generationOf(table: string): Promise<string> {
      const rows = await sql.unsafe<{ generation: string }[]>(`select generation from ${table}`)
      return String(rows[0]!.generation)
    }

    /** Both tables exactly as copied aside under `prefix`, in one transaction. */
    async function putBack(prefix: 'aside' | 'later') {
      await sql.begin(async (tx) => {
        await tx`delete from key_ring_keys`
        await tx.unsafe(`insert into key_ring_keys select * from ${prefix}_keys`)
        await tx`delete from key_ring`
        await tx.unsafe(`insert into key_ring select * from ${prefix}_ring`)
      })
    }
  },
)
