/**
 * The key commands' rough edges, as an operator meets them: a missing key directory is one line
 * and exit 1 for every command that reads one (and for a gateway that does not generate keys);
 * `list --metrics` reads several gateways' /metrics and shows the latest use of each kid across
 * them; `publish` writes <KEYS_DIR>/jwks.json on the postgres store as on the directory store.
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readFile, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSql } from '../../../src/db/sql.js'
import { addGeneratedKey } from '../../../src/keys/custody/bootstrap.js'
import { createMetrics } from '../../../src/metrics/index.js'
import { realServer } from '../../support/db.js'
import { childEnv } from '../../support/process.js'
import { tempDir } from '../../support/temp.js'

const exec = promisify(execFile)
const TSX = 'node_modules/tsx/dist/cli.mjs'

async function run(script: string, args: string[], env: Record<string, string | undefined> = {}) {
  try {
    const r = await exec(process.execPath, [TSX, script, ...args], { env: childEnv(env) })
    return { code: 0, stdout: r.stdout, stderr: r.stderr }
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string }
    return { code: err.code, stdout: err.stdout, stderr: err.stderr }
  }
}
const keys = (args: string[], env: Record<string, string | undefined> = {}) =>
  run('scripts/keys.ts', args, env)

let dir: string
beforeAll(async () => {
  dir = await tempDir('sealed-keys-edges-')
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('a missing key directory', () => {
  it.each([
    [['list']],
    [['doctor']],
    [['publish']],
    [['retire', 'some-kid']],
    [['revoke', 'some-kid']],
    [['status', '--gateways', 'http://127.0.0.1:1']],
  ])('keys %j says so in one line and exits 1', async (args) => {
    const missing = join(dir, 'missing')
    const r = await keys([...args, '--dir', missing])
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe(
      `error: key directory ${missing} does not exist (KEYS_DIR or --dir); npm run keys -- generate makes one\n`,
    )
    expect(existsSync(missing)).toBe(false)
  })

  it('a file where the directory should be is named as such', async () => {
    const r = await keys(['list', '--dir', 'package.json'])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(
      'error: key directory package.json is not a directory (KEYS_DIR or --dir)\n',
    )
  })

  it('stops a gateway that does not generate keys, in one line naming KEYS_DIR', async () => {
    const missing = join(dir, 'gone')
    const r = await run('src/index.ts', [], {
      KEYS_DIR: missing,
      KEYS_AUTOGENERATE: 'false',
      PORT: '0',
      DATA_DIR: join(dir, 'data'),
      SEED_COUNT: '0',
      LOG_LEVEL: 'silent',
    })
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(
      `sealed-search: key directory ${missing} does not exist (KEYS_DIR); npm run keys -- generate makes one\n`,
    )
  })
})

describe('keys list --metrics over several gateways', () => {
  const servers: Server[] = []
  let a: string
  let b: string
  let kids: string[]
  let keysDir: string

  /** A /metrics endpoint serving a real registry's exposition, with the given uses. */
  async function metricsServer(uses: [string, string][]): Promise<string> {
    const metrics = createMetrics({ defaultMetrics: false })
    for (const [kid, at] of uses) metrics.keyUsed(kid, 'jwe', new Date(at))
    const text = await metrics.registry.metrics()
    const server = createServer((_req, res) => res.end(text))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    servers.push(server)
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`
  }

  beforeAll(async () => {
    keysDir = join(dir, 'fleet-keys')
    kids = [
      (await addGeneratedKey(keysDir, 'P-256')).kid,
      (await addGeneratedKey(keysDir, 'X25519')).kid,
    ]
    a = await metricsServer([[kids[0]!, '2026-06-01T10:00:00Z']])
    b = await metricsServer([[kids[0]!, '2026-06-01T12:00:00Z']])
  })
  afterAll(async () => {
    for (const s of servers) await new Promise((resolve) => s.close(resolve))
  })

  const lastUse = (stdout: string, kid: string) =>
    stdout
      .split('\n')
      .find((l) => l.startsWith(`${kid}\t`))!
      .split('\t')[6]

  it('shows the latest use of each kid across the gateways listed', async () => {
    const r = await keys(['list', '--dir', keysDir, '--metrics', `${a},${b}`])
    expect(r.code).toBe(0)
    expect(lastUse(r.stdout, kids[0]!)).toBe('2026-06-01T12:00:00.000Z')
    expect(lastUse(r.stdout, kids[1]!)).toBe('never')
    const one = await keys(['list', '--dir', keysDir, '--metrics', a])
    expect(lastUse(one.stdout, kids[0]!)).toBe('2026-06-01T10:00:00.000Z')
  })

  it('names a gateway that does not answer, in one line and exit 1', async () => {
    // A port that was free a moment ago: nothing answers there.
    const probe = createServer()
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    const { port } = probe.address() as AddressInfo
    await new Promise((resolve) => probe.close(resolve))
    const gone = `http://127.0.0.1:${port}/metrics`
    const r = await keys(['list', '--dir', keysDir, '--metrics', `${a},${gone}`])
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe(`error: ${gone}: ECONNREFUSED\n`)
  })
})

describe.runIf(realServer)('keys publish on the postgres store (needs DATABASE_URL)', () => {
  const schema = `publish_${randomBytes(5).toString('hex')}`
  let env: Record<string, string>
  beforeAll(() => {
    env = {
      KEY_STORE: 'postgres',
      DATABASE_URL: process.env.DATABASE_URL!,
      DATABASE_SCHEMA: schema,
      KEYS_PASSPHRASE: randomBytes(16).toString('hex'),
      KEYS_DIR: join(dir, 'pg-keys'),
    }
  })
  afterAll(async () => {
    const sql = createSql({ url: process.env.DATABASE_URL!, max: 1 })
    await sql`drop schema if exists ${sql(schema)} cascade`
    await sql.end()
  })

  it('writes <KEYS_DIR>/jwks.json, as on the directory store', async () => {
    const generated = await keys(['generate'], env)
    expect(generated.code, generated.stderr).toBe(0)
    const kid = generated.stdout.trim()
    const r = await keys(['publish'], env)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain(`to ${join(env.KEYS_DIR!, 'jwks.json')}`)
    const jwks = JSON.parse(await readFile(join(env.KEYS_DIR!, 'jwks.json'), 'utf8'))
    expect(jwks.keys.map((k: { kid: string }) => k.kid)).toEqual([kid])
    expect(JSON.stringify(jwks)).not.toMatch(/"d"/)
  })
})
