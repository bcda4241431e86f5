/**
 * Interoperability with JOSE implementations outside npm: Debian's Python jwcrypto and Authlib
 * encrypt an MBI to the gateway's published keys (test/interop/*.py, the partner recipes of
 * docs/PARTNERS.md), and the token is searched end to end over real HTTP.
 *
 * An implementation that is not installed fails its tests when CI=true, and is skipped with the
 * reason printed otherwise.
 */
import { execFile, spawnSync } from 'node:child_process'
import { rm, writeFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { serve, type ServerType } from '@hono/node-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { patientSearchUrl } from '@sealed-search/client'
import { seed, seededBeneId, seededMbi } from '../../../src/db/seed.js'
import { createApp } from '../../../src/http/app.js'
import { staticKeyRing } from '../../../src/keys/ring/keyring.js'
import type { Curve } from '../../../src/keys/jwk.js'
import { createLogger } from '../../../src/log/logger.js'
import { createTestDatabase, type TestDatabase } from '../../support/db.js'
import { tempDir, twoKeyRing } from '../../support/keys.js'

/** Debian's interpreter, where apt installs the modules; -I ignores PYTHON* and user site dirs. */
const PYTHON = '/usr/bin/python3'
const SCRIPTS = fileURLToPath(new URL('../../interop/', import.meta.url))
const CI = process.env.CI === 'true'

interface Implementation {
  name: string
  script: string
  /** Python statement that succeeds only when the implementation is importable. */
  probe: string
  debianPackage: string
}

const IMPLEMENTATIONS: Implementation[] = [
  {
    name: 'jwcrypto',
    script: 'jwcrypto_encrypt.py',
    probe: 'import jwcrypto.jwe',
    debianPackage: 'python3-jwcrypto',
  },
  {
    name: 'Authlib',
    script: 'authlib_encrypt.py',
    probe: 'import authlib.jose',
    debianPackage: 'python3-authlib',
  },
]

const CURVES: Curve[] = ['P-256', 'X25519']
const ALGS = ['ECDH-ES', 'ECDH-ES+A256KW'] as const
const ENCS = ['A256GCM', 'A128GCM'] as const

/** Why the implementation cannot run here, or undefined when it can. Checked once, at import. */
function unavailable(impl: Implementation): string | undefined {
  const probe = spawnSync(PYTHON, ['-I', '-c', impl.probe], { encoding: 'utf8', timeout: 20_000 })
  if (probe.error) return `${PYTHON}: ${probe.error.message}`
  if (probe.status !== 0) return probe.stderr.trim().split('\n').pop() ?? `exit ${probe.status}`
  return undefined
}

let db: TestDatabase
let server: ServerType
let base: string
let jwksFile: string
let kids: Record<Curve, string>
const dirs: string[] = []

beforeAll(async () => {
  db = await createTestDatabase()
  await seed(db.sql, { count: 50 })
  const { dir, ring } = await twoKeyRing()
  dirs.push(dir)

  // The port is known only once listening, and the app wants its public base URL: the server
  // reaches `app` through a closure, which runs only after `app` is built below.
  server = await new Promise<ServerType>((resolve) => {
    const s = serve(
      { fetch: (request) => app.fetch(request), hostname: '127.0.0.1', port: 0 },
      () => resolve(s),
    )
  })
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const app = createApp({
    keys: staticKeyRing(ring),
    sql: db.sql,
    logger: createLogger('silent'),
    publicBaseUrl: base,
  })

  // The scripts get exactly what a partner downloads.
  const res = await fetch(`${base}/.well-known/jwks.json`)
  const published = await res.text()
  expect(JSON.parse(published)).toEqual(ring.jwks())
  const jwksDir = await tempDir('sealed-interop-')
  dirs.push(jwksDir)
  jwksFile = join(jwksDir, 'jwks.json')
  await writeFile(jwksFile, published)
  const kidOf = (crv: Curve) => ring.jwks().keys.find((k) => k.crv === crv)!.kid
  kids = { 'P-256': kidOf('P-256'), X25519: kidOf('X25519') }
})

afterAll(async () => {
  if (server) {
    if ('closeAllConnections' in server) server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
  await db?.close()
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
})

/** Runs an implementation's script, the plaintext on standard input only, and returns the token. */
function encrypt(
  impl: Implementation,
  plaintext: string,
  opts: { crv: Curve; alg: string; enc: string },
): Promise<string> {
  const args = ['-I', join(SCRIPTS, impl.script), jwksFile, opts.alg, opts.enc]
  return new Promise((resolve, reject) => {
    const child = execFile(
      PYTHON,
      [...args, `--kid=${kids[opts.crv]}`],
      { timeout: 20_000 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${impl.script} failed: ${stderr.trim() || error.message}`))
        else resolve(stdout.trim())
      },
    )
    child.stdin!.end(plaintext)
  })
}

function protectedHeader(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8'))
}

/** Flips one bit of the decoded ciphertext, keeping the base64url canonical. */
function tamperCiphertext(token: string): string {
  const parts = token.split('.')
  const ciphertext = Buffer.from(parts[3]!, 'base64url')
  ciphertext[0] = ciphertext[0]! ^ 0x01
  parts[3] = ciphertext.toString('base64url')
  return parts.join('.')
}

interface SearchResult {
  status: number
  body: {
    resourceType?: string
    total?: number
    entry?: { fullUrl: string; resource: { id: string } }[]
    issue?: { code: string; details?: { coding: { system: string; code: string }[] } }[]
  }
}

async function search(token: string): Promise<SearchResult> {
  const res = await fetch(patientSearchUrl(base, token))
  return { status: res.status, body: (await res.json()) as SearchResult['body'] }
}

function expectPatient(result: SearchResult, index: number): void {
  expect(result.status).toBe(200)
  expect(result.body).toMatchObject({ resourceType: 'Bundle', total: 1 })
  const entry = result.body.entry![0]!
  expect(entry.resource.id).toBe(seededBeneId(index))
  expect(entry.fullUrl).toBe(`${base}/v2/fhir/Patient/${seededBeneId(index)}`)
}

function expectRefused(result: SearchResult, issue: string, code: string): void {
  expect(result.status).toBe(400)
  expect(result.body).toMatchObject({
    resourceType: 'OperationOutcome',
    issue: [{ code: issue, details: { coding: [{ system: 'urn:sealed-search:error', code }] } }],
  })
}

// Each case searches its own seeded beneficiary, so a mix-up between cases cannot pass.
let nextIndex = 0

for (const impl of IMPLEMENTATIONS) {
  const missing = unavailable(impl)
  const skip = missing !== undefined && !CI
  if (skip) {
    console.warn(
      `skipping the ${impl.name} interop tests: ${missing} (apt-get install ${impl.debianPackage})`,
    )
  }

  describe.skipIf(skip)(`tokens made by ${impl.name} (Debian ${impl.debianPackage})`, () => {
    it(`is installed (Debian package ${impl.debianPackage})`, () => {
      expect(missing, `${impl.name} is required when CI=true`).toBeUndefined()
    })

    for (const crv of CURVES) {
      for (const alg of ALGS) {
        for (const enc of ENCS) {
          const index = nextIndex++
          it(`finds the beneficiary from a ${crv} ${alg} ${enc} token`, async () => {
            const token = await encrypt(impl, seededMbi(index), { crv, alg, enc })
            const header = protectedHeader(token)
            expect(Object.keys(header).sort()).toEqual(['alg', 'enc', 'epk', 'kid'])
            expect(header).toMatchObject({ alg, enc, kid: kids[crv], epk: { crv } })
            expectPatient(await search(token), index)
          })
        }
      }
    }

    const claimsIndex = nextIndex++
    it('finds the beneficiary from an {"mbi","iat","exp"} claims token', async () => {
      const now = Math.floor(Date.now() / 1000)
      const claims = JSON.stringify({ mbi: seededMbi(claimsIndex), iat: now, exp: now + 300 })
      const token = await encrypt(impl, claims, { crv: 'P-256', alg: 'ECDH-ES', enc: 'A256GCM' })
      expectPatient(await search(token), claimsIndex)
    })

    const tamperIndex = nextIndex++
    it('refuses a token whose ciphertext was altered, as a decryption failure', async () => {
      const token = await encrypt(impl, seededMbi(tamperIndex), {
        crv: 'P-256',
        alg: 'ECDH-ES+A256KW',
        enc: 'A256GCM',
      })
      expectPatient(await search(token), tamperIndex)
      expectRefused(await search(tamperCiphertext(token)), 'invalid', 'ERR_TOKEN_DECRYPTION_FAILED')
    })

    it('refuses a key management algorithm outside the allowlist', async () => {
      const token = await encrypt(impl, seededMbi(0), {
        crv: 'P-256',
        alg: 'ECDH-ES+A128KW',
        enc: 'A256GCM',
      })
      expectRefused(await search(token), 'not-supported', 'ERR_TOKEN_ALG_UNSUPPORTED')
    })

    it('refuses a content encryption algorithm outside the allowlist', async () => {
      const token = await encrypt(impl, seededMbi(0), {
        crv: 'X25519',
        alg: 'ECDH-ES',
        enc: 'A256CBC-HS512',
      })
      expectRefused(await search(token), 'not-supported', 'ERR_TOKEN_ENC_UNSUPPORTED')
    })
  })
}
