import { execFile, spawnSync } from 'node:child_process'
import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openToken } from '../../../src/crypto/token.js'
import { openDatabase } from '../../../src/db/connect.js'
import { createSql } from '../../../src/db/sql.js'
import { seededMbi } from '../../../src/db/seed.js'
import { thumbprint, toPublicJwk } from '../../../src/keys/jwk.js'
import { loadKeyRing } from '../../../src/keys/ring/open-key.js'
import { childEnv } from '../../support/process.js'
import { tempDir } from '../../support/keys.js'
import { randomBytes } from 'node:crypto'

const run = promisify(execFile)
const TSX = ['node_modules/tsx/dist/cli.mjs']

async function script(name: string, args: string[], env: Record<string, string | undefined> = {}) {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      [...TSX, `scripts/${name}.ts`, ...args],
      {
        env: childEnv(env),
      },
    )
    return { code: 0, stdout, stderr }
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string }
    return { code: err.code, stdout: err.stdout, stderr: err.stderr }
  }
}

describe('npm run keys', () => {
  let dir: string
  beforeAll(async () => {
    dir = join(await tempDir(), 'keys')
  })

  it.each(['P-256', 'X25519'])(
    'generate --curve %s writes a 0600 private JWK and prints its thumbprint',
    async (crv) => {
      const r = await script('keys', ['generate', '--curve', crv, '--dir', dir])
      expect(r.code).toBe(0)
      const kid = r.stdout.trim()
      const path = join(dir, `${kid}.private.jwk.json`)
      expect((await stat(path)).mode & 0o777).toBe(0o600)
      const jwk = JSON.parse(await readFile(path, 'utf8'))
      expect(jwk.crv).toBe(crv)
      expect(await thumbprint(toPublicJwk(jwk))).toBe(kid)
      expect(r.stdout + r.stderr).not.toContain(jwk.d)
    },
  )

  it('publish writes a JWKS of public members only and prints fingerprints', async () => {
    const out = join(dir, '..', 'published.json')
    const r = await script('keys', ['publish', '--out', out, '--dir', dir])
    expect(r.code).toBe(0)
    const text = await readFile(out, 'utf8')
    expect(text).not.toMatch(/"d"\s*:/)
    const jwks = JSON.parse(text) as { keys: { kid: string }[] }
    expect(jwks.keys).toHaveLength(2)
    for (const k of jwks.keys) expect(r.stderr).toContain(k.kid)
  })

  it('publish --out - prints the JWKS', async () => {
    const r = await script('keys', ['publish', '--out', '-', '--dir', dir])
    expect(JSON.parse(r.stdout).keys).toHaveLength(2)
  })

  it('list shows each key with its state and a file check', async () => {
    const r = await script('keys', ['list', '--dir', dir])
    expect(r.stdout.trim().split('\n')).toHaveLength(3) // a header and two keys
    expect(r.stdout).toMatch(/\tunknown\tok\t(current|next)$/m)
    expect(r.stdout).toMatch(/\tP-256\tactive\t/)
    expect(r.stdout).toMatch(/\tX25519\tactive\t/)
  })

  it.each([
    [['generate', '--curve', 'P-384'], /--curve must be P-256, X25519, X-Wing/],
    [['frobnicate'], /unknown command/],
    [['generate', '--bogus'], /Unknown option/],
  ])('exits 2 with usage for %j', async (args, message) => {
    const r = await script('keys', [...args, '--dir', dir])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(message)
    expect(r.stderr).toMatch(/usage: npm run keys/)
  })

  it('--help prints the commands', async () => {
    const r = await script('keys', ['--help'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/generate.*\n.*\n.*publish/s)
  })
})

describe('npm run encrypt', () => {
  let dir: string
  beforeAll(async () => {
    dir = join(await tempDir(), 'keys')
    await script('keys', ['generate', '--dir', dir])
    await script('keys', ['generate', '--curve', 'X25519', '--dir', dir])
    await script('keys', ['publish', '--dir', dir])
  })

  it('prints the search URL of the gateway whose JWKS URL it was given', async () => {
    // A gateway's JWKS, served over HTTP from a loopback port this test picks.
    const published = await readFile(join(dir, 'jwks.json'))
    const server = createServer((req, res) => {
      res.writeHead(req.url === '/.well-known/jwks.json' ? 200 : 404, {
        'content-type': 'application/json',
      })
      res.end(req.url === '/.well-known/jwks.json' ? published : '{}')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const gateway = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    try {
      const mbi = seededMbi(12)
      const r = await script('encrypt', [mbi, '--jwks', `${gateway}/.well-known/jwks.json`])
      expect(r.code, r.stderr).toBe(0)
      const [token, url] = r.stdout.trim().split('\n')
      expect(url).toBe(
        `${gateway}/v2/fhir/Patient?identifier=https://bluebutton.cms.gov/resources/identifier/mbi-encrypted%7C${token}`,
      )
      expect((await openToken(token!, await loadKeyRing(dir), new Date())).mbi).toBe(mbi)
      // --base still wins.
      const based = await script('encrypt', [
        mbi,
        '--jwks',
        `${gateway}/.well-known/jwks.json`,
        '--base',
        'https://gw.example',
      ])
      expect(based.stdout.trim().split('\n')[1]).toMatch(
        /^https:\/\/gw\.example\/v2\/fhir\/Patient\?/,
      )
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  })

  it.each([
    [[], 'P-256'],
    [['--crv', 'X25519', '--alg', 'ECDH-ES+A256KW'], 'X25519'],
    [['--ttl', '60', '--enc', 'A128GCM'], 'P-256'],
    [['--format', 'hpke', '--crv', 'X25519'], 'X25519'],
    // HPKE without --crv takes the X25519 key: the shortest token (91 characters, not 135).
    [['--format', 'hpke', '--ttl', '60'], 'X25519'],
  ])('prints a token the gateway decrypts, and the search URL (%j)', async (args, crv) => {
    const mbi = seededMbi(11)
    const r = await script('encrypt', [
      mbi,
      '--jwks',
      join(dir, 'jwks.json'),
      '--base',
      'https://gw.example',
      ...args,
    ])
    expect(r.code).toBe(0)
    const [token, url] = r.stdout.trim().split('\n')
    expect(url).toBe(
      `https://gw.example/v2/fhir/Patient?identifier=https://bluebutton.cms.gov/resources/identifier/mbi-encrypted%7C${token}`,
    )
    const ring = await loadKeyRing(dir)
    const opened = await openToken(token!, ring, new Date())
    expect(opened.mbi).toBe(mbi)
    expect(ring.get(opened.kid)!.crv).toBe(crv)
    expect(r.stdout).not.toContain(mbi)
  })

  it('reads the MBI from stdin with -', async () => {
    const mbi = seededMbi(12)
    const r = spawnSync(
      process.execPath,
      [...TSX, 'scripts/encrypt.ts', '-', '--jwks', join(dir, 'jwks.json'), '--base', 'http://x'],
      { input: `${mbi}\n`, env: childEnv({}), encoding: 'utf8' },
    )
    expect(r.status).toBe(0)
    const token = r.stdout.split('\n')[0]!
    expect((await openToken(token, await loadKeyRing(dir), new Date())).mbi).toBe(mbi)
  })

  it('names the key of an HPKE token by the hpke_key_id of the JWKS, and needs one', async () => {
    const jwks = JSON.parse(await readFile(join(dir, 'jwks.json'), 'utf8'))
    const x = jwks.keys.find((k: { crv: string }) => k.crv === 'X25519')
    const args = ['--format', 'hpke', '--crv', 'X25519', '--base', 'http://x']
    const r = await script('encrypt', [seededMbi(13), '--jwks', join(dir, 'jwks.json'), ...args])
    const token = r.stdout.split('\n')[0]!
    expect(token.length).toBeLessThan(100)
    expect([...Buffer.from(token, 'base64url').subarray(0, 3)]).toEqual([2, 0, x.hpke_key_id])
    const bare = join(dir, 'jwks-without-ids.json')
    const keys = jwks.keys.map(({ hpke_key_id: _, ...k }: Record<string, unknown>) => k)
    await writeFile(bare, JSON.stringify({ keys }))
    const refused = await script('encrypt', [seededMbi(13), '--jwks', bare, ...args])
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toMatch(/no X25519 encryption key/)
  })

  it('refuses a malformed MBI without echoing it', async () => {
    const r = await script('encrypt', ['1SXXBAD0000', '--jwks', join(dir, 'jwks.json')])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/not a well-formed MBI/)
    expect(r.stderr).not.toContain('1SXXBAD0000')
  })
})

describe('npm run seed', () => {
  const url = process.env.DATABASE_URL
  const schema = `seed_${randomBytes(5).toString('hex')}`
  afterAll(async () => {
    if (!url) return
    const sql = createSql({ url, max: 1 })
    await sql`drop schema if exists ${sql(schema)} cascade`
    await sql.end()
  })

  it('loads N beneficiaries with a progress report, and keeps them on a second run', async () => {
    const dataDir = join(await tempDir(), 'data')
    const env = url ? { DATABASE_URL: url, DATABASE_SCHEMA: schema } : { DATA_DIR: dataDir }
    const r = await script('seed', ['--count', '1200'], env)
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/seeded 1200 beneficiaries/)
    expect(r.stderr).toMatch(/seeding .*100%/)
    const again = await script('seed', ['--count', '1200'], env)
    expect(again.code).toBe(0)
    const db = await openDatabase({
      url,
      schema: url ? schema : undefined,
      dataDir,
      poolSize: 1,
      connectTimeoutSeconds: 5,
    })
    const [row] = await db.sql`select count(*)::int as n from beneficiaries`
    await db.close()
    expect(row!.n).toBe(1202)
  })

  it('refuses a bad count', async () => {
    const r = await script('seed', ['--count', 'lots'])
    expect(r.code).toBe(2)
  })
})
