/**
 * Scheduled destruction across a fleet: three gateway processes on one KEY_STORE=postgres ring,
 * a key retired with --destroy-after, and `keys sweep` run from two hosts at once (as cron would):
 * the key is destroyed once, its sealed value is gone, every instance converges and refuses its
 * tokens (400 ERR_TOKEN_KID_UNKNOWN) while the other keys keep working, and no instance logs an
 * error. Needs a real PostgreSQL server (several sessions, LISTEN/NOTIFY).
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encryptMbi, patientSearchUrl } from '@sealed-search/client'
import { seed, seededMbi } from '../../src/db/seed.js'
import { createSql, type Sql } from '../../src/db/sql.js'
import type { ScanReport } from '../../src/logscan/index.js'
import { tempDir } from '../support/keys.js'
import { needs, REAL_SERVER } from '../support/needs.js'
import { childEnv, start, type Running } from '../support/process.js'
import { postgresFleetEnv } from '../support/fleet.js'

const exec = promisify(execFile)
const realServer = process.env.DATABASE_URL

describe.runIf(needs(realServer, `scheduled key destruction across a fleet ${REAL_SERVER}`))(
  'keys sweep on a fleet of gateways (real PostgreSQL)',
  () => {
    const schema = `fleet_destroy_${randomBytes(5).toString('hex')}`
    const env = postgresFleetEnv(realServer!, schema, { LOG_LEVEL: 'info' })
    let sql: Sql
    const gateways: { url: string; running: Running }[] = []

    async function keys(args: string[]) {
      try {
        const r = await exec(process.execPath, ['dist/keys.js', ...args], { env: childEnv(env) })
        return { code: 0, stdout: r.stdout, stderr: r.stderr }
      } catch (e) {
        const err = e as { code: number; stdout: string; stderr: string }
        return { code: err.code, stdout: err.stdout, stderr: err.stderr }
      }
    }

    beforeAll(async () => {
      const admin = createSql({ url: realServer!, max: 1 })
      await admin`create schema ${admin(schema)}`
      await admin.end()
      sql = createSql({ url: realServer!, max: 2, searchPath: schema })
      for (const curve of ['P-256', 'P-256', 'X25519']) {
        const made = await keys(['generate', '--curve', curve, '--publish-delay', '0', '--force'])
        expect(made.code, made.stderr).toBe(0)
      }
      await seed(sql, { count: 10 })
      for (let i = 0; i < 3; i++) {
        const running = start(process.execPath, ['dist/index.js'], childEnv(env))
        const [, url] = await running.waitFor(/listening on (http:\/\/\S+)/)
        gateways.push({ url: url!, running })
      }
    }, 120_000)

    afterAll(async () => {
      await Promise.all(gateways.map((g) => g.running.stop()))
      if (sql) {
        await sql`drop schema if exists ${sql(schema)} cascade`
        await sql.end()
      }
    })

    const jwks = async (url: string) =>
      (
        (await (await fetch(`${url}/.well-known/jwks.json`)).json()) as {
          keys: { kid: string; crv: string }[]
        }
      ).keys

    async function answer(url: string, token: string) {
      const res = await fetch(patientSearchUrl(url, token))
      const body = (await res.json()) as { issue?: { details?: { coding?: { code: string }[] } }[] }
      return `${res.status} ${body.issue?.[0]?.details?.coding?.[0]?.code ?? 'ok'}`
    }

    it('destroys the key once, and every instance refuses its tokens without an error', async () => {
      const published = await jwks(gateways[0]!.url)
      const [doomed, kept] = published.filter((k) => k.crv === 'P-256')
      const x25519 = published.find((k) => k.crv === 'X25519')!
      const tokens = {
        doomed: await encryptMbi(seededMbi(1), doomed as never),
        kept: await encryptMbi(seededMbi(2), kept as never),
        x25519: await encryptMbi(seededMbi(3), x25519 as never, { format: 'hpke' }),
      }
      for (const g of gateways) expect(await answer(g.url, tokens.doomed)).toBe('200 ok')

      const retired = await keys(['retire', doomed!.kid, '--destroy-after', '1s'])
      expect(retired.code, retired.stderr).toBe(0)
      expect(retired.stderr).toContain('is to be destroyed at')
      await new Promise((r) => setTimeout(r, 1500))
      // Two hosts' cron at the same minute: the change is one transaction, so one destroys.
      const sweeps = await Promise.all([keys(['sweep']), keys(['sweep'])])
      for (const s of sweeps) expect(s.code, s.stderr).toBe(0)
      expect(sweeps.map((s) => s.stdout.trim()).filter(Boolean)).toEqual([doomed!.kid])

      const [row] = await sql<{ state: string; sealed: string | null; destroyed_at: Date }[]>`
        select state, sealed_private_jwk as sealed, destroyed_at from key_ring_keys
        where kid = ${doomed!.kid}`
      expect(row).toMatchObject({ state: 'destroyed', sealed: null })
      expect(row!.destroyed_at).toBeInstanceOf(Date)

      const urls = gateways.map((g) => g.url).join(',')
      for (let i = 0; ; i++) {
        if ((await keys(['status', '--gateways', urls])).code === 0) break
        expect(i, 'the fleet converges').toBeLessThan(50)
        await new Promise((r) => setTimeout(r, 200))
      }
      for (const g of gateways) {
        expect(await answer(g.url, tokens.doomed)).toBe('400 ERR_TOKEN_KID_UNKNOWN')
        expect(await answer(g.url, tokens.kept)).toBe('200 ok')
        expect(await answer(g.url, tokens.x25519)).toBe('200 ok')
        expect(g.running.output()).not.toMatch(/"level":(50|60)/)
      }
      const doctor = await keys(['doctor'])
      expect(doctor.code, doctor.stdout).toBe(0)

      // The fleet's logs scanned with the keys read from KEY_STORE=postgres (public records only):
      // the destroyed key's tokens are counted as destroyed, the others as still decryptable.
      const log = join(await tempDir('sealed-fleet-destroy-'), 'gateways.log')
      await writeFile(log, gateways.map((g) => g.running.output()).join(''))
      let scan
      try {
        scan = await exec(process.execPath, ['dist/logs-scan.js', '--json', log], {
          env: childEnv(env),
        })
      } catch (e) {
        throw new Error(`logs:scan failed: ${(e as { stderr: string }).stderr}`)
      }
      const report = JSON.parse(scan.stdout) as ScanReport
      expect(report.ring).toBe('PostgreSQL table key_ring_keys')
      const keyRow = (kid: string) => report.keys.find((k) => k.kid === kid)
      expect(keyRow(doomed!.kid)).toMatchObject({ state: 'destroyed' })
      expect(keyRow(doomed!.kid)!.tokens).toBeGreaterThanOrEqual(6) // 3 before, 3 after
      expect(keyRow(kept!.kid)).toMatchObject({ state: 'active' })
      expect(report.destroyed).toBe(keyRow(doomed!.kid)!.tokens)
      expect(report.plaintext.count).toBe(0)
    }, 120_000)
  },
)
