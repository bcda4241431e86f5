/**
 * The fleet: three gateway processes on one KEY_STORE=postgres ring behind real haproxy, a
 * partner that fetches the JWKS through the balancer before every request, and the custodian's
 * commands run while it does. Needs a real PostgreSQL server (LISTEN/NOTIFY, several sessions),
 * so it runs only when DATABASE_URL is set (CI's second pass); the embedded pass skips it.
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { needs, REAL_SERVER } from '../support/needs.js'
import { encryptMbi, patientSearchUrl, type TokenFormat } from '@sealed-search/client'
import { seed, seededMbi } from '../../src/db/seed.js'
import { createSql, type Sql } from '../../src/db/sql.js'
import { startHaproxy, type Balancer } from '../support/haproxy.js'
import { tempDir } from '../support/keys.js'
import { childEnv, start, type Running } from '../support/process.js'
import { faultProxy, type FaultProxy } from '../support/proxy.js'
import { postgresFleetEnv } from '../support/fleet.js'

const exec = promisify(execFile)
const realServer = process.env.DATABASE_URL
const POLL_SECONDS = 1
const PUBLISH_DELAY = '4s'
const GRACE_SECONDS = 3
const MBIS = 20

interface Jwk {
  kid: string
  crv: string
  hpke_key_id?: number
}

describe.runIf(needs(realServer, `the fleet on one postgres key ring ${REAL_SERVER}`))(
  'a fleet of gateways on one postgres key ring (real PostgreSQL)',
  () => {
    const schema = `fleet_${randomBytes(5).toString('hex')}`
    const env = postgresFleetEnv(realServer!, schema, {
      KEYS_POLL_INTERVAL: String(POLL_SECONDS),
      JWKS_MAX_AGE: '1',
    })
    let dir: string
    let sql: Sql
    let dbProxy: FaultProxy
    let balancer: Balancer | undefined
    const gateways: { url: string; running: Running }[] = []
    /** The gateway that reaches the database through `dbProxy`. */
    let cutOff: { url: string; running: Running }
    const measured: Record<string, number> = {}

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

    async function startGatewayProcess(extra: Record<string, string> = {}) {
      const running = start(
        process.execPath,
        ['--import', 'tsx', 'src/index.ts'],
        childEnv({ ...env, ...extra }),
      )
      const [, url] = await running.waitFor(/listening on (http:\/\/\S+)/)
      const gateway = { url: url!, running }
      gateways.push(gateway)
      return gateway
    }

    const jwksOf = async (url: string) =>
      (await (await fetch(`${url}/.well-known/jwks.json`)).json()) as { keys: Jwk[] }

    const versionOf = async (url: string): Promise<number> => {
      const text = await (await fetch(`${url}/metrics`)).text()
      const m = /^sealed_search_key_ring_version (\d+)$/m.exec(text)
      return Number(m?.[1])
    }

    async function search(base: string, jwk: Jwk, index: number, format: TokenFormat) {
      const token = await encryptMbi(seededMbi(index), jwk as never, { format })
      const res = await fetch(patientSearchUrl(base, token))
      const body = (await res.json()) as {
        total?: number
        issue?: { details?: { coding?: { code: string }[] } }[]
      }
      return {
        status: res.status,
        total: body.total,
        code: body.issue?.[0]?.details?.coding?.[0]?.code,
      }
    }

    beforeAll(async () => {
      dir = await tempDir('sealed-fleet-')
      const admin = createSql({ url: realServer!, max: 1 })
      await admin`create schema ${admin(schema)}`
      await admin.end()
      sql = createSql({ url: realServer!, max: 2, searchPath: schema })

      // The ring: one P-256 and one X25519 key, both published at once (there is no fleet yet).
      const p256 = await keys(['generate', '--curve', 'P-256'])
      expect(p256.code, p256.stderr).toBe(0)
      const x25519 = await keys([
        'generate',
        '--curve',
        'X25519',
        '--publish-delay',
        '0',
        '--force',
      ])
      expect(x25519.code, x25519.stderr).toBe(0)
      await seed(sql, { count: MBIS })

      // The third gateway reaches the database through a proxy the test can cut.
      const target = new URL(realServer!)
      dbProxy = await faultProxy(target.hostname, Number(target.port))
      const proxied = new URL(realServer!)
      proxied.hostname = '127.0.0.1'
      proxied.port = String(dbProxy.port)
      ;[, , cutOff] = await Promise.all([
        startGatewayProcess(),
        startGatewayProcess(),
        startGatewayProcess({ DATABASE_URL: proxied.toString() }),
      ])
      balancer = await startHaproxy(
        dir,
        gateways.map((g, i) => ({ name: `g${i + 1}`, port: Number(new URL(g.url).port) })),
      )
    }, 90_000)

    afterAll(async () => {
      await balancer?.stop()
      await Promise.all(gateways.map((g) => g.running.stop()))
      await dbProxy?.close()
      if (sql) {
        await sql`drop schema if exists ${sql(schema)} cascade`
        await sql.end()
      }
      if (dir) await rm(dir, { recursive: true, force: true })
      if (Object.keys(measured).length)
        process.stdout.write(`fleet measurements: ${JSON.stringify(measured)}\n`)
    })

    it('rotates, publishes and retires under a partner loop through haproxy with 0 failed requests', async () => {
      const lb = balancer!.url
      const before = await jwksOf(lb)
      const oldP256 = before.keys.find((k) => k.crv === 'P-256')!
      const failures: string[] = []
      const usedKids = new Set<string>()
      /** When the partner first got each kid in a JWKS through the balancer. */
      const firstSeen = new Map<string, number>()
      let requests = 0
      let stop = false
      const partner = async (worker: number) => {
        for (let i = worker; !stop; i += 4) {
          try {
            // Every request: a fresh JWKS through the balancer, a random published key.
            const { keys: published } = await jwksOf(lb)
            const seenAt = Date.now()
            for (const k of published) if (!firstSeen.has(k.kid)) firstSeen.set(k.kid, seenAt)
            const jwk = published[Math.floor(Math.random() * published.length)]!
            const format: TokenFormat = i % 2 ? 'jwe' : 'hpke'
            const r = await search(lb, jwk, i % MBIS, format)
            requests++
            usedKids.add(jwk.kid)
            if (r.status !== 200 || r.total !== 1) failures.push(`${r.status} ${r.code} ${jwk.kid}`)
          } catch (error) {
            failures.push(String(error))
          }
        }
      }
      const loop = Promise.all([0, 1, 2, 3].map(partner))
      try {
        await new Promise((r) => setTimeout(r, 500))
        const rotatedAt = Date.now()
        const rotated = await keys([
          'rotate',
          '--curve',
          'P-256',
          '--publish-delay',
          PUBLISH_DELAY,
          '--grace',
          `${GRACE_SECONDS}s`,
        ])
        expect(rotated.code, rotated.stderr).toBe(0)
        const rotateDoneAt = Date.now()
        const newKid = rotated.stdout.trim()
        expect(newKid).toMatch(/^[A-Za-z0-9_-]{43}$/)
        // Pending: accepted everywhere, published nowhere yet.
        for (const g of gateways)
          expect((await jwksOf(g.url)).keys.map((k) => k.kid)).not.toContain(newKid)
        // `list` names the publish time (and the state at the time it runs: it may start late).
        const list = await keys(['list'])
        const row = list.stdout.split('\n').find((l) => l.startsWith(`${newKid}\t`))!
        const [, crv, state, , , publishAt] = row.split('\t')
        expect(crv).toBe('P-256')
        expect(Date.parse(publishAt!)).toBeGreaterThan(rotatedAt)
        expect(state).toBe(Date.now() < Date.parse(publishAt!) ? 'pending' : 'active')

        await until(async () => firstSeen.has(newKid), 15_000)
        // No JWKS before publishAt held the key; from publishAt to the first JWKS that did:
        const served = firstSeen.get(newKid)! - Date.parse(publishAt!)
        expect(served).toBeGreaterThanOrEqual(0)
        measured.publishAtToServedMs = served
        measured.rotateCommandMs = rotateDoneAt - rotatedAt
        // After the grace period the old key is past its notAfter: retire it, the loop still running.
        await new Promise((r) => setTimeout(r, GRACE_SECONDS * 1000 + 200))
        const retired = await keys(['retire', oldP256.kid])
        expect(retired.code, retired.stderr).toBe(0)
        await new Promise((r) => setTimeout(r, 1500))
        stop = true
        await loop
        expect(usedKids.has(newKid)).toBe(true)
        expect(usedKids.has(oldP256.kid)).toBe(true)
      } finally {
        stop = true
        await loop
      }
      measured.partnerRequests = requests
      expect(requests).toBeGreaterThan(40)
      expect(failures).toEqual([])
    }, 90_000)

    it('refuses a revoked kid on every instance within KEYS_POLL_INTERVAL + 1 s, without a restart', async () => {
      const x = (await jwksOf(gateways[0]!.url)).keys.find((k) => k.crv === 'X25519')!
      for (const g of gateways) expect((await search(g.url, x, 1, 'jwe')).status).toBe(200)
      // Watched while the command runs: after the revocation it stages the curve's new next key
      // (one poll interval later), so its exit is not when the gateways refused the key.
      const command = keys(['revoke', x.kid])
      const refusedAt = await Promise.all(
        gateways.map(async (g) => {
          await until(
            async () => (await search(g.url, x, 1, 'jwe')).code === 'ERR_TOKEN_KID_UNKNOWN',
            20_000,
          )
          return Date.now()
        }),
      )
      const revoked = await command
      expect(revoked.code, revoked.stderr).toBe(0)
      const revokedAt = Date.parse(/revoked at (\S+):/.exec(revoked.stderr)![1]!)
      const refusedAfter = refusedAt.map((at) => at - revokedAt)
      measured.revocationToRefusalMs = Math.max(...refusedAfter)
      expect(Math.max(...refusedAfter)).toBeLessThanOrEqual(POLL_SECONDS * 1000 + 1000)
    }, 90_000)

    it('a fourth instance started afterwards serves the same JWKS and ring version', async () => {
      const fourth = await startGatewayProcess()
      const expected = JSON.stringify(await jwksOf(gateways[0]!.url))
      for (const g of gateways) expect(JSON.stringify(await jwksOf(g.url))).toBe(expected)
      const versions = await Promise.all(gateways.map((g) => versionOf(g.url)))
      expect(new Set(versions).size).toBe(1)
      const ready = (await (await fetch(`${fourth.url}/health/ready`)).json()) as {
        ringVersion?: number
      }
      expect(ready.ringVersion).toBe(versions[0])
      const status = await keys(['status', '--gateways', gateways.map((g) => g.url).join(',')])
      expect(status.code, status.stdout + status.stderr).toBe(0)
      expect(status.stdout).toMatch(/converged/)
    }, 90_000)

    it('a gateway whose database connection drops keeps its last good ring and catches up when it returns', async () => {
      const third = cutOff
      const reference = gateways.find((g) => g !== cutOff)!
      const versionBefore = await versionOf(third.url)
      dbProxy.setMode('refuse')
      const generated = await keys([
        'generate',
        '--curve',
        'X25519',
        '--publish-delay',
        '0',
        '--force',
      ])
      expect(generated.code, generated.stderr).toBe(0)
      await until(async () => (await versionOf(reference.url)) !== versionBefore, 5000)
      const storeVersion = await versionOf(reference.url)
      await new Promise((r) => setTimeout(r, POLL_SECONDS * 1000 + 500))
      // Cut off: it serves the ring it had (whose pending keys still publish on time), without the
      // key made meanwhile.
      expect(await versionOf(third.url)).toBe(versionBefore)
      const newKid = generated.stdout.trim()
      expect((await jwksOf(third.url)).keys.map((k) => k.kid)).not.toContain(newKid)
      expect((await jwksOf(reference.url)).keys.map((k) => k.kid)).toContain(newKid)
      const split = await keys(['status', '--gateways', gateways.map((g) => g.url).join(',')])
      expect(split.code).toBe(1)
      expect(split.stdout).toMatch(/not converged/)

      const returnedAt = Date.now()
      dbProxy.setMode('pass')
      await until(async () => (await versionOf(third.url)) === storeVersion, 15_000)
      measured.reconnectToCatchUpMs = Date.now() - returnedAt
      expect((await jwksOf(third.url)).keys.map((k) => k.kid)).toEqual(
        (await jwksOf(reference.url)).keys.map((k) => k.kid),
      )
      // Ready again once its database answers (a host that failed is passed over for 2 s).
      await until(async () => (await fetch(`${third.url}/health/ready`)).status === 200, 15_000)
      const status = await keys(['status', '--gateways', gateways.map((g) => g.url).join(',')])
      expect(status.code, status.stdout).toBe(0)
    }, 90_000)
  },
)

async function until(check: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`)
    await new Promise((r) => setTimeout(r, 50))
  }
}
