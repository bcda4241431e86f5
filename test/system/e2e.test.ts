import { randomBytes } from 'node:crypto'
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { needs, REAL_SERVER } from '../support/needs.js'
import { chooseKey, encryptMbiJwe, fetchJwks, patientSearchUrl } from '@sealed-search/client'
import { loadConfig } from '../../src/config/index.js'
import { readMigrations } from '../../src/db/migrate.js'
import { AMBIGUOUS_MBI, seed, seededBeneId, seededMbi } from '../../src/db/seed.js'
import { createSql } from '../../src/db/sql.js'
import { createLogger } from '../../src/log/logger.js'
import { startGateway, type RunningGateway } from '../../src/server.js'
import { tempDir } from '../support/keys.js'
import { childEnv, start, type Running } from '../support/process.js'

const realServer = process.env.DATABASE_URL

describe('the gateway over real HTTP', () => {
  let gateway: RunningGateway
  const schema = `e2e_${randomBytes(5).toString('hex')}`

  afterAll(async () => {
    await gateway?.close()
    if (realServer) {
      const sql = createSql({ url: realServer, max: 1 })
      await sql`drop schema if exists ${sql(schema)} cascade`
      await sql.end()
    }
  })

  it('serves a partner that fetches the JWKS, encrypts with the client library and searches', async () => {
    const dir = await tempDir()
    const config = loadConfig({
      PORT: '0',
      KEYS_DIR: join(dir, 'keys'),
      DATA_DIR: join(dir, 'data'),
      SEED_COUNT: '50',
      ...(realServer ? { DATABASE_URL: realServer, DATABASE_SCHEMA: schema } : {}),
    })
    gateway = await startGateway(config, createLogger('silent'))
    if (realServer) await seed(gateway.db.sql, { count: 50 })

    const jwks = await fetchJwks(`${gateway.url}/.well-known/jwks.json`)
    const key = chooseKey(jwks, 'P-256')
    for (const i of [0, 17, 49]) {
      const token = await encryptMbiJwe(seededMbi(i), key, { ttlSeconds: 120 })
      const res = await fetch(patientSearchUrl(gateway.url, token))
      expect(res.status).toBe(200)
      const bundle = (await res.json()) as { total: number; entry: { resource: { id: string } }[] }
      expect(bundle.total).toBe(1)
      expect(bundle.entry[0]!.resource.id).toBe(seededBeneId(i))
    }
    const ambiguous = await fetch(
      patientSearchUrl(gateway.url, await encryptMbiJwe(AMBIGUOUS_MBI, key)),
    )
    expect(ambiguous.status).toBe(409)

    if (realServer) return // the example is made at start-up, from an already seeded database
    expect(gateway.exampleUrl).toBeDefined()
    const example = await fetch(gateway.exampleUrl!)
    expect(((await example.json()) as { total: number }).total).toBe(1)
  })
})

describe('npm start on a fresh checkout (embedded database, no keys)', () => {
  let running: Running | undefined
  afterAll(async () => {
    await running?.stop()
  })

  it('generates a key, seeds, prints a working example and stops cleanly on SIGTERM', async () => {
    const dir = await tempDir()
    const env = childEnv({
      PORT: '0',
      KEYS_DIR: join(dir, 'keys'),
      DATA_DIR: join(dir, 'data'),
      SEED_COUNT: '25',
    })
    running = start('npm', ['start', '--silent'], env)
    const [, url] = await running.waitFor(/curl -s '([^']+)'/)
    const res = await fetch(url!)
    expect(res.status).toBe(200)
    const bundle = (await res.json()) as { total: number; entry: { resource: { id: string } }[] }
    expect(bundle.entry[0]!.resource.id).toBe(seededBeneId(0))
    await running.waitFor(/"path":"\/v2\/fhir\/Patient"/)

    const files = await readdir(join(dir, 'keys'))
    const privateFile = files.find((f) => f.endsWith('.private.jwk.json'))!
    expect((await stat(join(dir, 'keys', privateFile))).mode & 0o777).toBe(0o600)
    expect(running.output()).toMatch(/generated a development key pair/)
    expect(running.output()).not.toContain(seededMbi(0))
    // SIGTERM to the gateway process itself (npm does not pass signals on): npm then exits 0.
    const [, pid] = await running.waitFor(/"pid":(\d+),"url"/)
    process.kill(Number(pid), 'SIGTERM')
    expect(await running.stop({ group: false })).toBe(0)
    expect(running.output()).toMatch(/"signal":"SIGTERM","msg":"shutting down"/)

    // A second start finds the persisted database and key: no new key, no second seeding.
    running = start('npm', ['start', '--silent'], env)
    await running.waitFor(/curl -s '([^']+)'/)
    expect(running.output()).not.toMatch(
      /generated a development key pair|"msg":"seeded synthetic beneficiaries"/,
    )
    expect(await readdir(join(dir, 'keys'))).toEqual(files)
  })

  it('refuses to start with a bad setting, naming the variable', async () => {
    const p = start('npm', ['start', '--silent'], childEnv({ PORT: 'eighty' }))
    await expect(p.waitFor(/PORT: expected a whole number/)).resolves.toBeTruthy()
    expect(await p.stop()).not.toBe(0)
  })
})

describe.runIf(needs(realServer, `npm start with DATABASE_URL ${REAL_SERVER}`))(
  'npm start with DATABASE_URL',
  () => {
    const schema = `start_${randomBytes(5).toString('hex')}`
    let running: Running | undefined
    afterAll(async () => {
      await running?.stop()
      const sql = createSql({ url: realServer!, max: 1 })
      await sql`drop schema if exists ${sql(schema)} cascade`
      await sql.end()
    })

    it('creates the schema on the server, records the migration and serves searches', async () => {
      const dir = await tempDir()
      running = start(
        'npm',
        ['start', '--silent'],
        childEnv({
          PORT: '0',
          KEYS_DIR: join(dir, 'keys'),
          DATABASE_URL: realServer,
          DATABASE_SCHEMA: schema,
        }),
      )
      const [, url] = await running.waitFor(/listening on (http:\/\/\S+)/)
      const sql = createSql({ url: realServer!, max: 1, searchPath: schema })
      const migrations = await sql`select version from schema_migrations order by version`
      const shipped = (await readMigrations()).map((m) => m.version)
      expect(migrations.map((m) => m.version)).toEqual(shipped)
      await seed(sql, { count: 5 })
      await sql.end()
      const jwks = await fetchJwks(`${url}/.well-known/jwks.json`)
      const token = await encryptMbiJwe(seededMbi(4), chooseKey(jwks))
      const bundle = (await (await fetch(patientSearchUrl(url!, token))).json()) as {
        total: number
      }
      expect(bundle.total).toBe(1)
    })
  },
)
