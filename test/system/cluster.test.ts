import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { request } from 'node:http'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { needs, REAL_SERVER } from '../support/needs.js'
import { chooseKey, encryptMbiJwe, fetchJwks, patientSearchUrl } from '@sealed-search/client'
import { ConfigError, loadConfig } from '../../src/config/index.js'
import { seed, seededMbi } from '../../src/db/seed.js'
import { createSql } from '../../src/db/sql.js'
import { tempDir } from '../support/keys.js'
import { childEnv, start, type Running } from '../support/process.js'

const realServer = process.env.DATABASE_URL
const exec = promisify(execFile)

function configError(env: Record<string, string>): ConfigError | undefined {
  try {
    loadConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  return undefined
}

describe('CLUSTER_WORKERS', () => {
  const DB = { DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db' }

  it('runs one process when unset or 0', () => {
    expect(loadConfig({}).cluster.workers).toBe(0)
    expect(loadConfig({ CLUSTER_WORKERS: '0' }).cluster.workers).toBe(0)
  })

  it('starts one worker per core with auto, or the number given', () => {
    expect(loadConfig({ ...DB, CLUSTER_WORKERS: 'auto' }).cluster.workers).toBe(
      availableParallelism(),
    )
    expect(loadConfig({ ...DB, CLUSTER_WORKERS: '3' }).cluster.workers).toBe(3)
  })

  it('refuses cluster mode on the embedded database, naming the variable', () => {
    const error = configError({ CLUSTER_WORKERS: '2' })
    expect(error?.variable).toBe('CLUSTER_WORKERS')
    expect(error?.message).toMatch(/needs DATABASE_URL/)
  })

  it.each(['two', '-1', '1.5', '257'])('refuses CLUSTER_WORKERS=%s', (value) => {
    expect(configError({ ...DB, CLUSTER_WORKERS: value })?.variable).toBe('CLUSTER_WORKERS')
  })
})

/** A GET on a connection of its own, so node:cluster may hand it to any worker. */
function freshGet(url: string, requestId: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, headers: { 'X-Request-Id': requestId } }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

interface LogLine {
  pid: number
  msg: string
  requestId?: string
  reason?: string
  keys?: { kid: string; state: string }[]
}

function logLines(output: string): LogLine[] {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine)
}

/** Polls `check` until it holds (true) or `ms` have passed (false). */
async function until(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (check()) return true
    await new Promise((r) => setTimeout(r, 25))
  }
  return check()
}

async function keys(args: string[]) {
  return exec(process.execPath, ['node_modules/tsx/dist/cli.mjs', 'scripts/keys.ts', ...args], {
    env: childEnv({}),
  })
}

describe.runIf(needs(realServer, `cluster mode on a shared database ${REAL_SERVER}`))(
  'cluster mode (CLUSTER_WORKERS=2) on a real PostgreSQL',
  () => {
    const schema = `cluster_${randomBytes(5).toString('hex')}`
    let running: Running | undefined

    afterAll(async () => {
      await running?.stop()
      const sql = createSql({ url: realServer!, max: 1 })
      await sql`drop schema if exists ${sql(schema)} cascade`
      await sql.end()
    })

    it('serves one port from two worker processes, reloads every worker on a revoke and on SIGHUP, and exits 0 on SIGTERM', async () => {
      const keyDir = join(await tempDir(), 'keys')
      running = start(
        process.execPath,
        ['--import', 'tsx', 'src/index.ts'],
        childEnv({
          PORT: '0',
          KEYS_DIR: keyDir,
          DATABASE_URL: realServer,
          DATABASE_SCHEMA: schema,
          CLUSTER_WORKERS: '2',
        }),
      )
      const [, url] = await running.waitFor(/listening on (http:\/\/\S+)/)
      const [, pidList] = await running.waitFor(/cluster: +2 workers \(([\d, ]+)\)/)
      const workers = new Set(pidList!.split(', ').map(Number))
      expect(workers.size).toBe(2)
      expect(workers.has(running.child.pid!)).toBe(false)
      // Migrations and the development key happened once, in the primary.
      const lines = () => logLines(running!.output())
      expect(
        lines()
          .filter((l) => l.msg === 'schema migrated')
          .map((l) => l.pid),
      ).toEqual([running.child.pid])
      expect(lines().filter((l) => l.msg === 'generated a development key pair')).toHaveLength(1)

      const sql = createSql({ url: realServer!, max: 1, searchPath: schema })
      await seed(sql, { count: 5 })
      await sql.end()
      const key = chooseKey(await fetchJwks(`${url}/.well-known/jwks.json`))
      const search = patientSearchUrl(url!, await encryptMbiJwe(seededMbi(1), key))

      // Each worker's access log line carries its pid: the request id says which response it was.
      const servedBy = async (prefix: string, status: number) => {
        for (let i = 0; i < 12; i++) {
          expect((await freshGet(search, `${prefix}-${i}`)).status).toBe(status)
        }
        const served = () =>
          lines().filter((l) => l.msg === 'request' && l.requestId?.startsWith(`${prefix}-`))
        expect(await until(() => served().length === 12, 5000)).toBe(true)
        return new Set(served().map((l) => l.pid))
      }
      expect(await servedBy('before', 200)).toEqual(workers)

      // A second key stays active; the first is revoked. Each worker watches the directory.
      await keys(['generate', '--dir', keyDir])
      await keys(['revoke', key.kid!, '--dir', keyDir])
      const reloadedBy = () =>
        new Set(
          lines()
            .filter((l) => l.msg === 'key ring reloaded')
            .filter((l) => l.keys?.some((k) => k.kid === key.kid && k.state === 'revoked'))
            .map((l) => l.pid),
        )
      expect(await until(() => reloadedBy().size === 2, 5000)).toBe(true)
      expect(reloadedBy()).toEqual(workers)
      expect(await servedBy('after', 400)).toEqual(workers)
      const refused = await freshGet(search, 'after-code')
      expect(JSON.parse(refused.body).issue[0].details.coding[0].code).toBe('ERR_TOKEN_KID_UNKNOWN')

      // SIGHUP to the primary reaches every worker, each of which reloads its ring.
      process.kill(running.child.pid!, 'SIGHUP')
      const hupBy = () =>
        new Set(
          lines()
            .filter((l) => l.msg === 'key ring reloaded' && l.reason === 'SIGHUP')
            .map((l) => l.pid),
        )
      expect(await until(() => hupBy().size === 2, 5000)).toBe(true)
      expect(hupBy()).toEqual(workers)

      // SIGTERM to the primary: it stops both workers and exits 0.
      process.kill(running.child.pid!, 'SIGTERM')
      expect(await running.stop({ group: false })).toBe(0)
      for (const pid of workers) expect(() => process.kill(pid, 0)).toThrow()
    })
  },
)
