/**
 * One clock for a fleet: real skewed clocks (libfaketime, Debian `faketime`) on one
 * KEY_STORE=postgres ring. A custodian 60 s behind rotates with a 15 s publish delay: the key's
 * times come from the database, so it is still pending on every instance 10 s later. A gateway
 * 30 s ahead measures about +30 s against the database (`sealed_search_clock_skew_seconds`) and
 * publishes no pending key before the database's time says so; `keys status --gateways` and
 * `keys doctor` report the skew. Needs a real PostgreSQL server (several sessions, LISTEN).
 */
import { execFile, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encryptMbi, patientSearchUrl } from '@sealed-search/client'
import { seed, seededMbi } from '../../src/db/seed.js'
import { createSql, type Sql } from '../../src/db/sql.js'
import { needs, REAL_SERVER } from '../support/needs.js'
import { childEnv, start, type Running } from '../support/process.js'
import { postgresFleetEnv } from '../support/fleet.js'

const exec = promisify(execFile)
const realServer = process.env.DATABASE_URL
const probe = spawnSync('faketime', ['-f', '+0s', 'true'])
// A missing faketime fails this file in CI (CI=true), and skips it otherwise.
const faketime = probe.status === 0 || process.env.CI === 'true'
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe.runIf(
  needs(realServer, `clock skew across a fleet ${REAL_SERVER}`) &&
    needs(faketime, 'clock skew across a fleet: needs faketime (Debian package faketime)'),
)('one clock for a fleet: the database’s (real PostgreSQL, libfaketime)', () => {
  const schema = `clock_skew_${randomBytes(5).toString('hex')}`
  const env = postgresFleetEnv(realServer!, schema, { LOG_LEVEL: 'info' })
  let sql: Sql
  /** Two gateways on time, then one 30 s ahead. */
  const gateways: { url: string; running: Running }[] = []
  const ahead = () => gateways[2]!

  /** `npm run keys` as a custodian runs it; `skew` runs it under faketime. */
  async function keys(args: string[], skew?: string) {
    const [command, argv] = skew
      ? ['faketime', ['-f', skew, process.execPath, 'dist/keys.js', ...args]]
      : [process.execPath, ['dist/keys.js', ...args]]
    try {
      const r = await exec(command as string, argv as string[], { env: childEnv(env) })
      return { code: 0, stdout: r.stdout, stderr: r.stderr }
    } catch (e) {
      const err = e as { code: number; stdout: string; stderr: string }
      return { code: err.code, stdout: err.stdout, stderr: err.stderr }
    }
  }

  async function startGateway(skew?: string) {
    const running = skew
      ? start('faketime', ['-f', skew, process.execPath, 'dist/index.js'], childEnv(env))
      : start(process.execPath, ['dist/index.js'], childEnv(env))
    const [, url] = await running.waitFor(/listening on (http:\/\/\S+)/)
    return { url: url!, running }
  }

  beforeAll(async () => {
    const admin = createSql({ url: realServer!, max: 1 })
    await admin`create schema ${admin(schema)}`
    await admin.end()
    sql = createSql({ url: realServer!, max: 2, searchPath: schema })
    for (const curve of ['P-256', 'X25519']) {
      const made = await keys(['generate', '--curve', curve, '--publish-delay', '0', '--force'])
      expect(made.code, made.stderr).toBe(0)
    }
    await seed(sql, { count: 5 })
    gateways.push(...(await Promise.all([startGateway(), startGateway(), startGateway('+30s')])))
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
  const metric = async (url: string, name: string) => {
    const text = await (await fetch(`${url}/metrics`)).text()
    const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text)
    return m ? Number(m[1]) : undefined
  }

  it('measures each instance’s skew against the database, and says why one holds', async () => {
    await sleep(1500) // a poll after start
    for (const g of gateways.slice(0, 2)) {
      expect(Math.abs((await metric(g.url, 'sealed_search_clock_skew_seconds'))!)).toBeLessThan(1)
      expect(await metric(g.url, 'sealed_search_clock_skew_holding')).toBe(0)
    }
    const skew = (await metric(ahead().url, 'sealed_search_clock_skew_seconds'))!
    expect(skew).toBeGreaterThan(28)
    expect(skew).toBeLessThan(32)
    expect(await metric(ahead().url, 'sealed_search_clock_skew_holding')).toBe(1)
    // Log lines are written together within LOG_FLUSH_MS.
    await expect
      .poll(() => ahead().running.output(), { timeout: 2000 })
      .toMatch(/"level":40.*KEYS_MAX_CLOCK_SKEW: no pending key/)
    const ready = await fetch(`${ahead().url}/health/ready`)
    expect(ready.status).toBe(200)
    expect(Number(ready.headers.get('clock-skew'))).toBeCloseTo(skew, 0)
  })

  it('keeps a key rotated by a custodian 60 s behind pending on every instance for its delay', async () => {
    const old = (await jwks(gateways[0]!.url)).find((k) => k.crv === 'P-256')!
    const rotated = await keys(
      ['rotate', '--curve', 'P-256', '--publish-delay', '15s', '--grace', '1h'],
      '-60s',
    )
    expect(rotated.code, rotated.stderr).toBe(0)
    const kid = rotated.stdout.trim()
    const [row] = await sql<
      { since: number; delay: number; public_jwk: Record<string, unknown> }[]
    >`select extract(epoch from now() - created)::float8 as since,
        extract(epoch from publish_at - created)::float8 as delay, public_jwk
      from key_ring_keys where kid = ${kid}`
    // The database's now(), not the custodian's clock 60 s behind.
    expect(row!.since).toBeGreaterThanOrEqual(0)
    expect(row!.since).toBeLessThan(5)
    expect(row!.delay).toBe(15)
    const token = await encryptMbi(seededMbi(1), row!.public_jwk as never)

    // Pending (accepted, not published) on every instance, the one 30 s ahead too, 10 s on.
    const until = Date.now() + 10_000
    while (Date.now() < until) {
      for (const g of gateways) {
        const published = await jwks(g.url)
        expect(
          published.map((k) => k.kid),
          g.url,
        ).not.toContain(kid)
        expect(
          published.map((k) => k.kid),
          g.url,
        ).toContain(old.kid)
      }
      await sleep(500)
    }
    for (const g of gateways) {
      expect((await fetch(patientSearchUrl(g.url, token))).status, g.url).toBe(200)
    }
    // Published by every instance once the database's time says so.
    const [due] = await sql<{ left: number }[]>`
      select extract(epoch from publish_at - now())::float8 as left
      from key_ring_keys where kid = ${kid}`
    await sleep(Math.max(0, due!.left * 1000) + 2500)
    for (const g of gateways) {
      expect(
        (await jwks(g.url)).map((k) => k.kid),
        g.url,
      ).toContain(kid)
    }
  }, 60_000)

  it('reports the skew in keys status --gateways (exit 1 beyond the bound) and keys doctor', async () => {
    const all = await keys(['status', '--gateways', gateways.map((g) => g.url).join(',')])
    expect(all.code, all.stdout).toBe(1)
    const lines = all.stdout.split('\n')
    const line = (url: string) => lines.find((l) => l.startsWith(url))!
    expect(line(ahead().url)).toMatch(
      /\tclock \+(29|30|31)\.\d{3} s \(beyond KEYS_MAX_CLOCK_SKEW 2 s/,
    )
    for (const g of gateways.slice(0, 2)) {
      expect(line(g.url)).toMatch(/\tready 200\tclock [+-]0\.\d{3} s$/)
    }
    const onTime = await keys(['status', '--gateways', `${gateways[0]!.url},${gateways[1]!.url}`])
    expect(onTime.code, onTime.stdout).toBe(0)
    expect(onTime.stdout).toMatch(/converged\n$/)

    const behind = await keys(['doctor'], '-60s')
    expect(behind.stdout).toMatch(
      /^warning clock: this host is -(59|60|61)\.\d{3} s from the database's/m,
    )
    const doctor = await keys(['doctor'])
    expect(doctor.code, doctor.stdout).toBe(0)
    expect(doctor.stdout).toMatch(/^ok {6}clock: this host is [+-]0\.\d{3} s from the database's/m)
  })
})
