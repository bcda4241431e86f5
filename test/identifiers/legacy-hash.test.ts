import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encryptMbiJwe } from '@sealed-search/client'
import { ConfigError, legacyHashPepper, loadConfig } from '../../src/config/index.js'
import { openDatabase } from '../../src/db/connect.js'
import {
  countUnhashedMbis,
  fillLegacyHashes,
  LegacyHashError,
  resetLegacyHashes,
} from '../../src/db/legacy-hash.js'
import {
  AMBIGUOUS_MBI,
  seed,
  seededBeneId,
  seededHistoricMbi,
  seededMbi,
} from '../../src/db/seed.js'
import { createSql } from '../../src/db/sql.js'
import { createLogger } from '../../src/log/logger.js'
import { startGateway, type RunningGateway } from '../../src/server.js'
import { legacyIdentifierHash } from '../../src/identifiers/legacy-hash.js'
import { syntheticMbi } from '../../src/identifiers/synthetic.js'
import type { KeyRing } from '../../src/keys/ring/keyring.js'
import { searchPath } from '../support/app.js'
import { createTestDatabase, realServer, type TestDatabase } from '../support/db.js'
import { tempDir, twoKeyRing } from '../support/keys.js'
import {
  errorCodeOf,
  expectNoneOf,
  fromAddress,
  MBI_HASH,
  parityApp,
  post,
  SEARCH,
  type FhirJson,
} from '../support/parity.js'
import { childEnv } from '../support/process.js'

interface Vectors {
  source: string
  pepper_utf8: string
  vectors: { identifier: string; iterations: number; hash: string }[]
  negative: {
    why: string
    identifier: string
    iterations: number
    pepper_utf8: string
    not_hash: string
  }[]
}
const VECTORS = JSON.parse(
  readFileSync(new URL('../vectors/bfd-mbi-hash.json', import.meta.url), 'utf8'),
) as Vectors
const PEPPER = Buffer.from(VECTORS.pepper_utf8, 'utf8')
const PEPPER_HEX = PEPPER.toString('hex')
const ITERATIONS = 1000
const COUNT = 30
const SUNSET = new Date('2027-06-30T00:00:00Z')
const DEPRECATION = new Date('2026-01-01T00:00:00Z')

let db: TestDatabase
let ring: KeyRing

beforeAll(async () => {
  db = await createTestDatabase()
  await seed(db.sql, { count: COUNT })
  ring = (await twoKeyRing()).ring
})
afterAll(() => db?.close())

/** Every MBI the seed wrote, current and historic: each should get exactly one hash. */
function seededMbis(): string[] {
  const out = [AMBIGUOUS_MBI, syntheticMbi(2_000_000_001)]
  for (let i = 0; i < COUNT; i++) {
    out.push(seededMbi(i))
    const old = seededHistoricMbi(i)
    if (old) out.push(old)
  }
  return out
}

const hashOf = (mbi: string) => legacyIdentifierHash(mbi, PEPPER, ITERATIONS)
const ids = (b: FhirJson) => (b.entry ?? []).map((e) => e.resource.id)

describe('the legacy identifier hash (PBKDF2-HMAC-SHA256)', () => {
  it('cites where its test vectors come from', () => {
    expect(VECTORS.source).toMatch(/github\.com\/CMSgov\/beneficiary-fhir-data/)
  })

  it.each(VECTORS.vectors)(
    "matches BFD's published hash of $identifier",
    async ({ identifier, iterations, hash }) => {
      expect(await legacyIdentifierHash(identifier, PEPPER, iterations)).toBe(hash)
    },
  )

  it.each(VECTORS.negative)('does not match when the $why', async (v) => {
    const pepper = Buffer.from(v.pepper_utf8, 'utf8')
    const hash = await legacyIdentifierHash(v.identifier, pepper, v.iterations)
    expect(hash).toMatch(/^[0-9a-f]{64}$/)
    expect(hash).not.toBe(v.not_hash)
  })
})

describe(`the legacy_mbi_hash table (${realServer ? 'PostgreSQL server' : 'embedded'})`, () => {
  it('keeps the hashes out of the core tables', async () => {
    const columns = await db.sql<{ table_name: string; column_name: string }[]>`
      select table_name, column_name from information_schema.columns
      where table_schema = current_schema() and column_name like '%hash%'
      order by table_name, column_name`
    expect(columns.map((c) => `${c.table_name}.${c.column_name}`)).toEqual([
      'beneficiaries.hicn_unhashed', // a plaintext HICN, not a hash
      'legacy_mbi_hash.mbi_hash',
      'legacy_mbi_hash_params.check_hash', // the check value of the parameters, not an MBI's
    ])
  })

  it('fills a hash for every current and historic MBI, in batches, reporting progress', async () => {
    const progress: [number, number][] = []
    const result = await fillLegacyHashes(db.sql, {
      pepper: PEPPER,
      iterations: ITERATIONS,
      batchSize: 7,
      onProgress: (done, total) => progress.push([done, total]),
    })
    const mbis = seededMbis()
    expect(result).toEqual({ hashed: mbis.length, present: 0 })
    expect(progress[0]).toEqual([0, mbis.length])
    expect(progress.at(-1)).toEqual([mbis.length, mbis.length])
    expect(progress.length).toBe(1 + Math.ceil(mbis.length / 7))
    const rows = await db.sql<{ mbi_num: string; mbi_hash: string }[]>`
      select mbi_num, mbi_hash from legacy_mbi_hash order by mbi_num`
    expect(rows.map((r) => r.mbi_num)).toEqual([...mbis].sort())
    for (const row of rows.slice(0, 5)) expect(row.mbi_hash).toBe(await hashOf(row.mbi_num))
    expect(await countUnhashedMbis(db.sql)).toBe(0)
  })

  it('hashes only what is missing when run again (resumable)', async () => {
    const again = await fillLegacyHashes(db.sql, { pepper: PEPPER, iterations: ITERATIONS })
    expect(again).toEqual({ hashed: 0, present: seededMbis().length })
    await db.sql`delete from legacy_mbi_hash where mbi_num in ${db.sql([seededMbi(1), seededMbi(2)])}`
    const resumed = await fillLegacyHashes(db.sql, { pepper: PEPPER, iterations: ITERATIONS })
    expect(resumed).toEqual({ hashed: 2, present: seededMbis().length - 2 })
  })

  it('keeps the batches done when stopped part-way, and a rerun finishes the rest', async () => {
    await resetLegacyHashes(db.sql)
    let batches = 0
    const stopped = fillLegacyHashes(db.sql, {
      pepper: PEPPER,
      iterations: ITERATIONS,
      batchSize: 10,
      onProgress: (done) => {
        if (done > 0 && ++batches === 2) throw new Error('stopped')
      },
    })
    await expect(stopped).rejects.toThrow('stopped')
    const [kept] = await db.sql`select count(*)::int as n from legacy_mbi_hash`
    expect(kept!.n).toBe(20)
    const rest = await fillLegacyHashes(db.sql, { pepper: PEPPER, iterations: ITERATIONS })
    expect(rest).toEqual({ hashed: seededMbis().length - 20, present: 20 })
  })

  it.each([
    ['another pepper', Buffer.from('anotherpepper'), ITERATIONS],
    ['another iteration count', PEPPER, ITERATIONS + 1],
  ])('refuses to mix in hashes made with %s', async (_what, pepper, iterations) => {
    const before = await db.sql`select mbi_num, mbi_hash from legacy_mbi_hash order by mbi_num`
    const error = await fillLegacyHashes(db.sql, { pepper, iterations }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(LegacyHashError)
    expect((error as LegacyHashError).code).toBe('ERR_LEGACY_HASH_PARAMS_MISMATCH')
    expect(String((error as Error).message)).not.toContain(pepper.toString('hex'))
    expect(await db.sql`select mbi_num, mbi_hash from legacy_mbi_hash order by mbi_num`).toEqual(
      before,
    )
  })

  it('never stores the pepper', async () => {
    const dump = JSON.stringify(await db.sql`select * from legacy_mbi_hash_params`)
    expect(dump).not.toContain(PEPPER_HEX)
    expect(dump).not.toContain(VECTORS.pepper_utf8)
  })
})

describe('GET /v2/fhir/Patient by mbi-hash, when enabled', () => {
  let gw: ReturnType<typeof parityApp>
  beforeAll(() => {
    gw = parityApp(ring, db.sql, { legacyHash: { sunset: SUNSET, deprecation: DEPRECATION } })
  })
  const byHash = async (hash: string, env?: unknown) =>
    gw.request(`/v2/fhir/Patient?identifier=${MBI_HASH}%7C${hash}`, undefined, env)

  it('finds the Patient by the hash of its current MBI, with Deprecation and Sunset', async () => {
    const r = await byHash(await hashOf(seededMbi(3)))
    expect(r.status).toBe(200)
    expect(ids(r.json())).toEqual([seededBeneId(3)])
    expect(r.res.headers.get('deprecation')).toBe(`@${DEPRECATION.getTime() / 1000}`)
    expect(r.res.headers.get('deprecation')).toBe('@1767225600')
    expect(r.res.headers.get('sunset')).toBe('Wed, 30 Jun 2027 00:00:00 GMT')
  })

  it('finds the Patient by the hash of a historic MBI, and in upper-case hex', async () => {
    const hash = (await hashOf(seededHistoricMbi(10)!)).toUpperCase()
    expect(ids((await byHash(hash)).json())).toEqual([seededBeneId(10)])
  })

  it('works in a POST form body too', async () => {
    const r = await gw.request(
      SEARCH,
      post({ identifier: `${MBI_HASH}|${await hashOf(seededMbi(4))}` }),
    )
    expect(ids(r.json())).toEqual([seededBeneId(4)])
    expect(r.res.headers.get('sunset')).toBe('Wed, 30 Jun 2027 00:00:00 GMT')
  })

  it('links with the hash, never the MBI', async () => {
    const hash = await hashOf(seededMbi(5))
    const body = (await byHash(hash)).json()
    for (const l of body.link!) {
      expect(l.url).toContain(`${MBI_HASH}%7C${hash}`)
      expect(l.url).not.toContain(seededMbi(5))
    }
  })

  it('answers an unknown hash with total 0, and an ambiguous one with 409: both deprecated', async () => {
    const none = await byHash('0'.repeat(64))
    expect([none.status, none.json().total]).toEqual([200, 0])
    expect(none.res.headers.get('deprecation')).toBe('@1767225600')
    const both = await byHash(await hashOf(AMBIGUOUS_MBI))
    expect([both.status, errorCodeOf(both.json())]).toEqual([409, 'ERR_MULTIPLE_MATCHES'])
    expect(both.res.headers.get('deprecation')).toBe('@1767225600')
    expect(both.res.headers.get('sunset')).toBe('Wed, 30 Jun 2027 00:00:00 GMT')
  })

  it.each([
    ['63 hex digits', 'a'.repeat(63)],
    ['a non-hex digit', `${'a'.repeat(63)}g`],
    ['an MBI', '1S00A00AA00'],
  ])('refuses a hash of %s with 400, not echoing it', async (_what, value) => {
    const r = await byHash(value)
    expect([r.status, errorCodeOf(r.json())]).toEqual([400, 'ERR_IDENTIFIER_MALFORMED'])
    expect(r.text).not.toContain(value)
  })

  it('counts its use for the operator, every unconfigured client as `other`, never by address', async () => {
    const hash = await hashOf(seededMbi(6))
    const before = await gw.metrics.legacyHashRequests.get()
    const others = before.values.find((v) => v.labels.client === 'other')?.value ?? 0
    await byHash(hash, fromAddress('10.0.0.7'))
    await byHash(hash, fromAddress('10.0.0.7'))
    await byHash(hash, fromAddress('10.0.0.8'))
    const text = await (await gw.app.request('/metrics')).text()
    expect(text).toContain(`sealed_search_legacy_hash_requests_total{client="other"} ${others + 3}`)
    expect(text).not.toContain('10.0.0.7')
    expect(text).not.toContain('10.0.0.8')
  })

  it('leaves other searches without Deprecation or Sunset, and uncounted', async () => {
    const key = ring.keys[0]!
    const before = (await gw.metrics.legacyHashRequests.get()).values
    const r = await gw.request(searchPath(await encryptMbiJwe(seededMbi(7), key.publicJwk)))
    expect(r.status).toBe(200)
    expect(r.res.headers.get('deprecation')).toBeNull()
    expect(r.res.headers.get('sunset')).toBeNull()
    expect((await gw.metrics.legacyHashRequests.get()).values).toEqual(before)
  })

  it('sends Deprecation @0 when no deprecation date is configured', async () => {
    const plain = parityApp(ring, db.sql, {
      legacyHash: { sunset: SUNSET, deprecation: undefined },
    })
    const r = await plain.request(`/v2/fhir/Patient?identifier=${MBI_HASH}%7C${'0'.repeat(64)}`)
    expect(r.res.headers.get('deprecation')).toBe('@0')
  })

  it('advertises the system and its sunset in the CapabilityStatement', async () => {
    const text = (await gw.request('/v2/fhir/metadata')).text
    expect(text).toContain('mbi-hash')
    expect(text).toContain('Wed, 30 Jun 2027 00:00:00 GMT')
  })

  it('writes no plaintext MBI or pepper to any log line, link, header or error', () => {
    const secrets = [...seededMbis(), PEPPER_HEX, VECTORS.pepper_utf8]
    expectNoneOf([...gw.lines, ...gw.audit], secrets)
    const notPatients = gw.responses.filter((r) => !r.body.includes('"resourceType":"Patient"'))
    expectNoneOf(
      [...gw.responses.map((r) => r.headers), ...notPatients.map((r) => r.body)],
      secrets,
    )
  })
})

describe('GET /v2/fhir/Patient by mbi-hash, when disabled (the default)', () => {
  it('answers 400 "not enabled", without deprecation headers, and touches no data', async () => {
    const gw = parityApp(ring, db.sql)
    const [before] = await db.sql`select count(*)::int as n from legacy_mbi_hash`
    const r = await gw.request(
      `/v2/fhir/Patient?identifier=${MBI_HASH}%7C${await hashOf(seededMbi(3))}`,
      undefined,
      fromAddress('10.0.0.9'),
    )
    expect([r.status, errorCodeOf(r.json())]).toEqual([400, 'ERR_IDENTIFIER_SYSTEM_NOT_ENABLED'])
    expect(r.json().issue![0]!.diagnostics).toMatch(/not enabled/)
    expect(r.res.headers.get('deprecation')).toBeNull()
    expect(r.res.headers.get('sunset')).toBeNull()
    const [after] = await db.sql`select count(*)::int as n from legacy_mbi_hash`
    expect(after!.n).toBe(before!.n)
    // Who still tries is counted all the same.
    const text = await (await gw.app.request('/metrics')).text()
    expect(text).toContain('sealed_search_legacy_hash_requests_total{client="other"} 1')
    // Every other search is as before.
    const key = ring.keys[0]!
    const ok = await gw.request(searchPath(await encryptMbiJwe(seededMbi(3), key.publicJwk)))
    expect(ids(ok.json())).toEqual([seededBeneId(3)])
    expect((await gw.request('/v2/fhir/metadata')).text).not.toContain('mbi-hash')
  })
})

describe('configuration', () => {
  const config = (env: Record<string, string>) => loadConfig(env)
  const failure = (env: Record<string, string>) => {
    try {
      config(env)
    } catch (e) {
      return e as ConfigError
    }
    throw new Error('expected a ConfigError')
  }

  it('leaves the legacy hash search off by default', () => {
    expect(config({}).features.legacyHash).toBeUndefined()
    expect(config({ LEGACY_HASH_SUNSET: '2027-06-30' }).features.legacyHash).toBeUndefined()
  })

  it.each([
    ['2027-06-30', '2027-06-30T00:00:00.000Z'],
    ['2027-06-30T12:30:00Z', '2027-06-30T12:30:00.000Z'],
    ['Wed, 30 Jun 2027 00:00:00 GMT', '2027-06-30T00:00:00.000Z'],
  ])('reads LEGACY_HASH_SUNSET=%s', (value, iso) => {
    const legacy = config({ LEGACY_HASH_ENABLED: 'true', LEGACY_HASH_SUNSET: value }).features
      .legacyHash
    expect(legacy!.sunset.toISOString()).toBe(iso)
    expect(legacy!.deprecation).toBeUndefined()
  })

  it.each([
    [{ LEGACY_HASH_ENABLED: 'true' }, 'LEGACY_HASH_SUNSET'],
    [{ LEGACY_HASH_ENABLED: 'maybe', LEGACY_HASH_SUNSET: '2027-06-30' }, 'LEGACY_HASH_ENABLED'],
    [{ LEGACY_HASH_ENABLED: 'true', LEGACY_HASH_SUNSET: '2027-02-30' }, 'LEGACY_HASH_SUNSET'],
    [{ LEGACY_HASH_ENABLED: 'true', LEGACY_HASH_SUNSET: 'next year' }, 'LEGACY_HASH_SUNSET'],
    [
      { LEGACY_HASH_ENABLED: 'true', LEGACY_HASH_SUNSET: 'Thu, 30 Jun 2027 00:00:00 GMT' },
      'LEGACY_HASH_SUNSET',
    ],
    [
      {
        LEGACY_HASH_ENABLED: 'true',
        LEGACY_HASH_SUNSET: '2027-06-30',
        LEGACY_HASH_DEPRECATION: '2028-01-01',
      },
      'LEGACY_HASH_DEPRECATION',
    ],
    [{ LEGACY_HASH_SUNSET: 'soon' }, 'LEGACY_HASH_SUNSET'],
  ])('refuses %j, naming %s', (env, variable) => {
    const error = failure(env)
    expect(error).toBeInstanceOf(ConfigError)
    expect(error.variable).toBe(variable)
  })

  it('reads LEGACY_HASH_DEPRECATION', () => {
    const legacy = config({
      LEGACY_HASH_ENABLED: 'yes',
      LEGACY_HASH_SUNSET: '2027-06-30',
      LEGACY_HASH_DEPRECATION: '2026-01-01',
    }).features.legacyHash
    expect(legacy!.deprecation!.toISOString()).toBe('2026-01-01T00:00:00.000Z')
  })

  it('reads the pepper from LEGACY_HASH_PEPPER or LEGACY_HASH_PEPPER_FILE, never echoing it', async () => {
    expect(legacyHashPepper({})).toBeUndefined()
    expect(legacyHashPepper({ LEGACY_HASH_PEPPER: PEPPER_HEX })).toEqual(PEPPER)
    const file = join(await tempDir(), 'pepper')
    await writeFile(file, `${PEPPER_HEX}\n`, { mode: 0o600 })
    expect(legacyHashPepper({ LEGACY_HASH_PEPPER_FILE: file })).toEqual(PEPPER)
    const both = () =>
      legacyHashPepper({ LEGACY_HASH_PEPPER: PEPPER_HEX, LEGACY_HASH_PEPPER_FILE: file })
    expect(both).toThrow(ConfigError)
    const secret = 'not-hex-secret'
    expect(() => legacyHashPepper({ LEGACY_HASH_PEPPER: secret })).toThrow(/hex-encoded/)
    try {
      legacyHashPepper({ LEGACY_HASH_PEPPER: secret })
    } catch (e) {
      expect((e as Error).message).not.toContain(secret)
    }
  })
})

describe('the gateway started from the environment', () => {
  const url = process.env.DATABASE_URL
  const schema = `lgw_${randomBytes(5).toString('hex')}`
  let gateway: RunningGateway | undefined
  afterAll(async () => {
    await gateway?.close()
    if (!url) return
    const sql = createSql({ url, max: 1 })
    await sql`drop schema if exists ${sql(schema)} cascade`
    await sql.end()
  })

  it('serves the hash search with its headers when LEGACY_HASH_ENABLED, counting the client', async () => {
    const dir = await tempDir()
    const config = loadConfig({
      PORT: '0',
      KEYS_DIR: join(dir, 'keys'),
      DATA_DIR: join(dir, 'data'),
      SEED_COUNT: '10',
      LEGACY_HASH_ENABLED: 'true',
      LEGACY_HASH_SUNSET: 'Wed, 30 Jun 2027 00:00:00 GMT',
      LEGACY_HASH_DEPRECATION: '2026-01-01',
      HICN_SEARCH_ENABLED: 'true',
      // The audit trail to a file: a passing run prints nothing.
      AUDIT_LOG: join(dir, 'audit.log'),
      ...(url ? { DATABASE_URL: url, DATABASE_SCHEMA: schema } : {}),
    })
    gateway = await startGateway(config, createLogger('silent'))
    if (url) await seed(gateway.db.sql, { count: 10 })
    await fillLegacyHashes(gateway.db.sql, { pepper: PEPPER, iterations: ITERATIONS })
    const res = await fetch(
      `${gateway.url}/v2/fhir/Patient?identifier=${MBI_HASH}%7C${await hashOf(seededMbi(2))}`,
    )
    expect(res.status).toBe(200)
    expect(ids((await res.json()) as FhirJson)).toEqual([seededBeneId(2)])
    expect(res.headers.get('deprecation')).toBe('@1767225600')
    expect(res.headers.get('sunset')).toBe('Wed, 30 Jun 2027 00:00:00 GMT')
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text()
    expect(metrics).toContain('sealed_search_legacy_hash_requests_total{client="other"} 1')
    const cs = await (await fetch(`${gateway.url}/v2/fhir/metadata`)).text()
    expect(cs).toContain('mbi-hash')
    expect(cs).toContain('hicn-encrypted')
  })
})

describe('npm run legacy-hash', () => {
  const run = promisify(execFile)
  const url = process.env.DATABASE_URL
  const schema = `lhash_${randomBytes(5).toString('hex')}`
  let env: Record<string, string>
  let dataDir: string
  let pepperFile: string

  async function script(name: string, args: string[], extra: Record<string, string> = {}) {
    try {
      const { stdout, stderr } = await run(
        process.execPath,
        ['node_modules/tsx/dist/cli.mjs', `scripts/${name}.ts`, ...args],
        { env: childEnv({ ...env, ...extra }) },
      )
      return { code: 0, stdout, stderr }
    } catch (e) {
      const err = e as { code: number; stdout: string; stderr: string }
      return { code: err.code, stdout: err.stdout, stderr: err.stderr }
    }
  }

  beforeAll(async () => {
    const dir = await tempDir()
    dataDir = join(dir, 'data')
    pepperFile = join(dir, 'pepper.hex')
    await writeFile(pepperFile, `${PEPPER_HEX}\n`, { mode: 0o600 })
    env = url ? { DATABASE_URL: url, DATABASE_SCHEMA: schema } : { DATA_DIR: dataDir }
    expect((await script('seed', ['--count', '40'])).code).toBe(0)
  })
  afterAll(async () => {
    if (!url) return
    const sql = createSql({ url, max: 1 })
    await sql`drop schema if exists ${sql(schema)} cascade`
    await sql.end()
  })

  const noPepper = (r: { stdout: string; stderr: string }) => {
    expectNoneOf([r.stdout, r.stderr], [PEPPER_HEX, VECTORS.pepper_utf8])
  }

  it('hashes every MBI with a progress bar, and never prints the pepper', async () => {
    const r = await script('legacy-hash', ['--iterations', '1000', '--pepper-file', pepperFile])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^hashed 50 MBIs \(0 already had a hash\) in [\d.]+ s$/m)
    expect(r.stderr).toMatch(/hashing .*100%/)
    noPepper(r)
    const db2 = await openDatabase({
      url,
      schema: url ? schema : undefined,
      dataDir,
      poolSize: 1,
      connectTimeoutSeconds: 5,
    })
    const [row] = await db2.sql<{ mbi_hash: string }[]>`
      select mbi_hash from legacy_mbi_hash where mbi_num = ${seededMbi(39)}`
    await db2.close()
    expect(row!.mbi_hash).toBe(await hashOf(seededMbi(39)))
  })

  it('hashes nothing on a second run, taking the pepper from the environment', async () => {
    const r = await script('legacy-hash', ['--iterations', '1000'], {
      LEGACY_HASH_PEPPER: PEPPER_HEX,
    })
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^hashed 0 MBIs \(50 already had a hash\)/m)
    noPepper(r)
  })

  it('refuses another pepper with exit 1, and --reset starts over with it', async () => {
    const other = randomBytes(16).toString('hex')
    const refused = await script('legacy-hash', ['--iterations', '1000', '--pepper-hex', other])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/another pepper or iteration count; use --reset/)
    expect(refused.stdout + refused.stderr).not.toContain(other)
    const reset = await script('legacy-hash', [
      '--iterations',
      '1000',
      '--pepper-hex',
      other,
      '--reset',
    ])
    expect(reset.code).toBe(0)
    expect(reset.stdout).toMatch(/^hashed 50 MBIs \(0 already had a hash\)/m)
    expect(reset.stdout + reset.stderr).not.toContain(other)
  })

  it.each([
    [['--iterations', '1000'], /give the pepper/],
    [['--pepper-file', '/nonexistent/pepper'], /--iterations must be/],
    [['--iterations', '0', '--pepper-hex', 'aa'], /--iterations must be/],
    [['--iterations', '1000', '--pepper-hex', 'zz-secret-zz'], /hex-encoded/],
    [['--iterations', '1000', '--pepper-file', '/nonexistent/pepper'], /cannot read/],
    [['--iterations', '1000', '--pepper-hex', 'aa', '--pepper-file', 'x'], /once/],
  ])('exits 2 with usage for %j', async (args, message) => {
    const r = await script('legacy-hash', args)
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(message)
    expect(r.stderr).toMatch(/usage: npm run legacy-hash/)
    expect(r.stderr).not.toContain('zz-secret-zz')
  })
})
