/**
 * No gap in an emergency: two gateway processes on one KEY_STORE=postgres ring behind real
 * haproxy, and a partner that searches at a steady rate with the client package's documented
 * `createJwksCache` (the JWKS cached for JWKS_MAX_AGE, the default 300 s) and `searchPatients`,
 * while the custodian runs exactly the emergency commands of docs/ROTATION.md (read from the
 * document) on the curve's current key. The curve keeps a next key, so every request succeeds,
 * each after at most one retry. Needs a real PostgreSQL server (several sessions, LISTEN/NOTIFY):
 * the embedded pass skips it.
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createJwksCache,
  encryptMbi,
  patientSearchUrl,
  searchPatients,
} from '@sealed-search/client'
import { seed, seededMbi } from '../../src/db/seed.js'
import { createSql, type Sql } from '../../src/db/sql.js'
import { startHaproxy, type Balancer } from '../support/haproxy.js'
import { tempDir } from '../support/keys.js'
import { needs, REAL_SERVER } from '../support/needs.js'
import { childEnv, start, type Running } from '../support/process.js'
import { postgresFleetEnv } from '../support/fleet.js'

const exec = promisify(execFile)
const realServer = process.env.DATABASE_URL
const MBIS = 10

/** The `npm run keys -- ...` lines of one section of docs/ROTATION.md, as written. */
async function runbook(section: string): Promise<string[]> {
  const text = await readFile('docs/ROTATION.md', 'utf8')
  const begin = text.indexOf(`\n## ${section}`)
  expect(begin, section).toBeGreaterThan(0)
  const end = text.indexOf('\n## ', begin + 1)
  return [
    ...text.slice(begin, end === -1 ? undefined : end).matchAll(/^ *npm run keys -- (.*)$/gm),
  ].map((m) => m[1]!.replace(/\s+#.*$/, '').trim())
}

interface Jwk {
  kid: string
  crv: string
}

describe.runIf(needs(realServer, `a fleet on one postgres key ring ${REAL_SERVER}`))(
  'an emergency revocation under a cached-JWKS partner loop through haproxy',
  () => {
    const schema = `emergency_${randomBytes(5).toString('hex')}`
    let dir: string
    let env: Record<string, string>
    let sql: Sql
    let balancer: Balancer | undefined
    const gateways: { url: string; running: Running }[] = []

    async function keys(args: string[]) {
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

    async function startGateway() {
      const running = start(process.execPath, ['--import', 'tsx', 'src/index.ts'], childEnv(env))
      gateways.push({ url: '', running })
      const [, url] = await running.waitFor(/listening on (http:\/\/\S+)/)
      gateways[gateways.findIndex((g) => g.running === running)]!.url = url!
    }

    const jwksOf = async (url: string) =>
      (await (await fetch(`${url}/.well-known/jwks.json`)).json()) as { keys: Jwk[] }

    beforeAll(async () => {
      dir = await tempDir('sealed-emergency-')
      env = postgresFleetEnv(realServer!, schema, { KEYS_DIR: join(dir, 'keys') })
      const admin = createSql({ url: realServer!, max: 1 })
      await admin`create schema ${admin(schema)}`
      await admin.end()
      sql = createSql({ url: realServer!, max: 1, searchPath: schema })
      // The ring as docs/ROTATION.md sets it up: a current and a next P-256 key.
      const current = await keys(['generate', '--curve', 'P-256'])
      expect(current.code, current.stderr).toBe(0)
      const next = await keys(['generate', '--curve', 'P-256', '--publish-delay', '0', '--force'])
      expect(next.code, next.stderr).toBe(0)
      await seed(sql, { count: MBIS })
      await Promise.all([startGateway(), startGateway()])
      balancer = await startHaproxy(
        dir,
        gateways.map((g, i) => ({ name: `g${i + 1}`, port: Number(new URL(g.url).port) })),
      )
    }, 90_000)

    afterAll(async () => {
      await balancer?.stop()
      await Promise.all(gateways.map((g) => g.running.stop()))
      if (sql) {
        await sql`drop schema if exists ${sql(schema)} cascade`
        await sql.end()
      }
      if (dir) await rm(dir, { recursive: true, force: true })
    })

    it('answers every request of the partner loop, each after at most one retry', async () => {
      const lb = balancer!.url
      // Both gateways are in the balancer and publish the current key first, then the next key.
      await expect.poll(async () => (await jwksOf(lb)).keys.length, { timeout: 10_000 }).toBe(2)
      const [current, next] = (await jwksOf(lb)).keys
      for (const g of gateways) {
        expect((await jwksOf(g.url)).keys.map((k) => k.kid)).toEqual([current!.kid, next!.kid])
      }
      // The partner's documented loop: one cache, JWKS cached for its max-age (300 s).
      const jwks = createJwksCache(`${lb}/.well-known/jwks.json`)
      const counts = { requests: 0, failed: 0, retried: 0 }
      const kidsAnswered = new Set<string>()
      let stop = false
      const partner = async (worker: number) => {
        for (let i = worker; !stop; i += 2) {
          const r = await searchPatients(lb, seededMbi(i % MBIS), jwks, { crv: 'P-256' })
          counts.requests++
          if (r.retried) counts.retried++
          const total = (r.body as { total?: number }).total
          if (r.status !== 200 || total !== 1) counts.failed++
          else kidsAnswered.add(r.kid)
          await new Promise((resolve) => setTimeout(resolve, 50)) // a steady rate
        }
      }
      const loop = Promise.all([0, 1].map(partner))
      await new Promise((resolve) => setTimeout(resolve, 1000))
      expect(counts.requests).toBeGreaterThan(0)

      // The custodian: the current P-256 key is compromised; the runbook's commands, as written.
      const emergency = await runbook('Emergency: a private key is compromised')
      expect(emergency.map((c) => c.split(' ')[0])).toEqual(['revoke', 'publish'])
      const started = Date.now()
      let newNext = ''
      for (const command of emergency) {
        const r = await keys(command.replace('<kid>', current!.kid).split(/\s+/))
        expect(r.code, `${command}: ${r.stderr}`).toBe(0)
        if (command.startsWith('revoke')) newNext = r.stdout.trim()
      }
      expect(newNext).toMatch(/^[\w-]{43}$/)
      // Every gateway refuses the revoked key; the next key is the current one everywhere.
      const revokedToken = await encryptMbi(seededMbi(0), current as never)
      for (const g of gateways) {
        await expect
          .poll(async () => (await fetch(patientSearchUrl(g.url, revokedToken))).status, {
            timeout: 5000,
            interval: 100,
          })
          .toBe(400)
        expect((await jwksOf(g.url)).keys[0]!.kid).toBe(next!.kid)
      }
      const refusedAfterMs = Date.now() - started
      // The loop goes on until the new next key is published too (three poll intervals).
      await expect
        .poll(async () => (await jwksOf(lb)).keys.map((k) => k.kid), { timeout: 10_000 })
        .toEqual([next!.kid, newNext])
      await new Promise((resolve) => setTimeout(resolve, 1000))
      stop = true
      await loop
      process.stdout.write(
        `emergency measurements: ${JSON.stringify({ ...counts, refusedAfterMs })}\n`,
      )
      expect(counts.failed).toBe(0)
      // The cached JWKS still named the revoked key: the partner retried, once per request.
      expect(counts.retried).toBeGreaterThan(0)
      expect(counts.requests).toBeGreaterThan(counts.retried)
      expect([...kidsAnswered].sort()).toEqual([current!.kid, next!.kid].sort())
      // The published JWKS for partners who pin: the next key first, the revoked key gone.
      const pinned = JSON.parse(await readFile(join(dir, 'keys', 'jwks.json'), 'utf8')) as {
        keys: Jwk[]
      }
      expect(pinned.keys.map((k) => k.kid)[0]).toBe(next!.kid)
      expect(pinned.keys.map((k) => k.kid)).not.toContain(current!.kid)
    }, 60_000)
  },
)
