import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readFile, rm } from 'node:fs/promises'
import { request } from 'node:http'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { needs, REAL_SERVER } from '../support/needs.js'
import { chooseKey, encryptMbiJwe, fetchJwks, patientSearchUrl } from '@sealed-search/client'
import { migrate } from '../../src/db/migrate.js'
import { seed, seededMbi } from '../../src/db/seed.js'
import { createSql } from '../../src/db/sql.js'
import { addGeneratedKey } from '../../src/keys/custody/bootstrap.js'
import { tempDir } from '../support/keys.js'
import { childEnv, start, type Running } from '../support/process.js'

// docs/DEPLOYMENT.md's haproxy configuration and systemd unit, as written. Two gateway processes
// share a real PostgreSQL (DATABASE_URL; skipped without it) behind the Debian haproxy package.
const url = process.env.DATABASE_URL
const HAPROXY = '/usr/sbin/haproxy'
const exec = promisify(execFile)

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** A GET on a connection of its own; status 0 when the connection failed. */
function get(target: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(target, { agent: false }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', () => resolve(0))
    req.end()
  })
}

async function until(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (await check()) return true
    await new Promise((r) => setTimeout(r, 100))
  }
  return check()
}

describe.runIf(
  needs(url, `two gateways behind haproxy ${REAL_SERVER}`) &&
    needs(existsSync(HAPROXY), `two gateways behind haproxy need ${HAPROXY} (Debian haproxy)`),
)('two gateways behind haproxy (docs/deploy/haproxy.cfg)', () => {
  const schema = `deploy_${randomBytes(5).toString('hex')}`
  const ports: number[] = []
  const gateways: (Running | undefined)[] = []
  let haproxy: Running
  let front: string
  let search: string
  let keysDir: string
  let work: string

  const startGateway = async (i: number) => {
    const running = start(
      process.execPath,
      ['dist/index.js'], // the build, as the systemd unit runs it
      childEnv({
        PORT: String(ports[i]),
        KEYS_DIR: keysDir,
        KEYS_AUTOGENERATE: 'false',
        DATABASE_URL: url,
        DATABASE_SCHEMA: schema,
      }),
    )
    gateways[i] = running
    await running.waitFor(/listening on http/)
    return running
  }

  /** Requests each gateway has logged for the Patient search. */
  const served = (i: number) =>
    (gateways[i]?.output() ?? '')
      .split('\n')
      .filter((l) => l.includes('"msg":"request"') && l.includes('/v2/fhir/Patient')).length

  beforeAll(async () => {
    const sql = createSql({ url: url!, max: 1 })
    await sql`create schema ${sql(schema)}`
    await sql.end()
    const db = createSql({ url: url!, max: 2, searchPath: schema })
    await migrate(db)
    await seed(db, { count: 20 })
    await db.end()
    work = await tempDir()
    keysDir = join(work, 'keys')
    await addGeneratedKey(keysDir, 'P-256')
    ports.push(await freePort(), await freePort())
    await Promise.all([startGateway(0), startGateway(1)])
    const listen = `127.0.0.1:${await freePort()}`
    front = `http://${listen}`
    haproxy = start(HAPROXY, ['-db', '-f', 'docs/deploy/haproxy.cfg'], {
      ...process.env,
      SEALED_LISTEN: listen,
      SEALED_GW1: `127.0.0.1:${ports[0]}`,
      SEALED_GW2: `127.0.0.1:${ports[1]}`,
    })
    expect(await until(async () => (await get(`${front}/health/ready`)) === 200, 20_000)).toBe(true)
    const key = chooseKey(await fetchJwks(`${front}/.well-known/jwks.json`))
    search = patientSearchUrl(front, await encryptMbiJwe(seededMbi(4), key))
  })

  afterAll(async () => {
    await haproxy?.stop()
    for (const g of gateways) await g?.stop()
    const sql = createSql({ url: url!, max: 1 })
    await sql`drop schema if exists ${sql(schema)} cascade`
    await sql.end()
    if (work) await rm(work, { recursive: true, force: true })
  })

  it('spreads searches over both gateways', async () => {
    const statuses = await Promise.all(Array.from({ length: 20 }, () => get(search)))
    expect(statuses).toEqual(Array(20).fill(200))
    expect(await until(async () => served(0) + served(1) >= 20, 5000)).toBe(true)
    expect(served(0)).toBeGreaterThan(0)
    expect(served(1)).toBeGreaterThan(0)
  })

  it('loses no search while a gateway stops on SIGTERM, and the gateway exits 0', async () => {
    const statuses: number[] = []
    let running = true
    const load = (async () => {
      while (running) {
        const batch = await Promise.all(Array.from({ length: 4 }, () => get(search)))
        statuses.push(...batch)
      }
    })()
    await new Promise((r) => setTimeout(r, 300))
    const code = await gateways[0]!.stop()
    // Past haproxy's `fall 2` at `inter 1s`: it has marked the gateway down by now.
    await new Promise((r) => setTimeout(r, 2500))
    running = false
    await load
    expect(code).toBe(0)
    expect(statuses.length).toBeGreaterThan(20)
    expect(statuses.filter((s) => s !== 200)).toEqual([])
  })

  it('sends searches to a gateway again once its readiness check passes', async () => {
    const before = served(1)
    await startGateway(0)
    // `rise 2` at `inter 1s`: two good checks.
    expect(
      await until(async () => {
        await Promise.all(Array.from({ length: 4 }, () => get(search)))
        return served(0) > 0
      }, 15_000),
    ).toBe(true)
    expect(served(1)).toBeGreaterThan(before)
  })
})

describe('the systemd unit (docs/deploy)', () => {
  it('runs the build with node, without TypeScript tooling (tsx is a development dependency)', async () => {
    const unit = await readFile('docs/deploy/sealed-search.service', 'utf8')
    expect(unit.match(/^ExecStart=.*$/gm)).toEqual(['ExecStart=/usr/bin/node dist/index.js'])
    expect(unit).not.toMatch(/tsx|src\/index\.ts/)
  })
})

describe.runIf(
  needs(
    existsSync('/usr/bin/systemd-analyze'),
    'the systemd unit check needs systemd-analyze (Debian systemd)',
  ),
)('the systemd unit (docs/deploy)', () => {
  it('passes systemd-analyze verify', async () => {
    const { stderr } = await exec('systemd-analyze', [
      'verify',
      'docs/deploy/sealed-search.service',
    ])
    expect(stderr.trim()).toBe('')
  })
})
