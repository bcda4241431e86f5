/**
 * HPKE interoperability with an implementation outside npm: test/interop/hpke_encrypt.py (the
 * Python recipe of docs/PARTNERS.md) builds the token from the primitives of Debian's
 * python3-cryptography, and the token is searched end to end over real HTTP. The script's KDF,
 * key schedule and AEAD are also checked against RFC 9180 A.1.1 and A.3.1.
 *
 * When python3-cryptography is not installed the tests fail with CI=true, and are skipped with
 * the reason printed otherwise.
 */
import { execFile, spawnSync } from 'node:child_process'
import { readFile, rm, writeFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { serve, type ServerType } from '@hono/node-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { patientSearchUrl } from '@sealed-search/client'
import { seed, seededBeneId, seededMbi } from '../../../src/db/seed.js'
import { createApp } from '../../../src/http/app.js'
import type { Curve } from '../../../src/keys/jwk.js'
import { staticKeyRing, type KeyRing } from '../../../src/keys/ring/keyring.js'
import { createLogger } from '../../../src/log/logger.js'
import { createTestDatabase, type TestDatabase } from '../../support/db.js'
import { tempDir, twoKeyRing } from '../../support/keys.js'

/** Debian's interpreter, where apt installs the modules; -I ignores PYTHON* and user site dirs. */
const PYTHON = '/usr/bin/python3'
const SCRIPTS = fileURLToPath(new URL('../../interop/', import.meta.url))
const VECTORS = fileURLToPath(new URL('../../vectors/rfc9180-base-mode.json', import.meta.url))
const CI = process.env.CI === 'true'
const DEBIAN_PACKAGE = 'python3-cryptography'

/** Why the script cannot run here, or undefined when it can. Checked once, at import. */
function unavailable(): string | undefined {
  const probe = spawnSync(
    PYTHON,
    ['-I', '-c', 'from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand'],
    { encoding: 'utf8', timeout: 20_000 },
  )
  if (probe.error) return `${PYTHON}: ${probe.error.message}`
  if (probe.status !== 0) return probe.stderr.trim().split('\n').pop() ?? `exit ${probe.status}`
  return undefined
}

function python(args: string[], stdin = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      PYTHON,
      ['-I', '-B', ...args],
      { timeout: 20_000 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${args[0]} failed: ${stderr.trim() || error.message}`))
        else resolve(stdout.trim())
      },
    )
    child.stdin!.end(stdin)
  })
}

let db: TestDatabase
let server: ServerType
let base: string
let ring: KeyRing
let jwksFile: string
const dirs: string[] = []
const kidOf = (crv: Curve) => ring.jwks().keys.find((k) => k.crv === crv)!.kid

describe('the HPKE recipe of docs/PARTNERS.md', () => {
  it('is the script the tests run, exactly', async () => {
    const doc = await readFile(
      fileURLToPath(new URL('../../../docs/PARTNERS.md', import.meta.url)),
      'utf8',
    )
    const recipe = /<!-- file: test\/interop\/hpke_encrypt.py -->\s*```python\n([\s\S]*?)```/.exec(
      doc,
    )
    expect(recipe?.[1]).toBe(await readFile(join(SCRIPTS, 'hpke_encrypt.py'), 'utf8'))
  })
})

const missing = unavailable()
const skip = missing !== undefined && !CI
if (skip) {
  console.warn(`skipping the HPKE interop tests: ${missing} (apt-get install ${DEBIAN_PACKAGE})`)
}

describe.skipIf(skip)(`HPKE tokens made with Debian ${DEBIAN_PACKAGE}`, () => {
  beforeAll(async () => {
    db = await createTestDatabase()
    await seed(db.sql, { count: 20 })
    const keys = await twoKeyRing()
    ring = keys.ring
    dirs.push(keys.dir)
    // The server reaches `app` through a closure: the port is known only once listening.
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
    // The script gets exactly what a partner downloads.
    const published = await (await fetch(`${base}/.well-known/jwks.json`)).text()
    const jwksDir = await tempDir('sealed-hpke-interop-')
    dirs.push(jwksDir)
    jwksFile = join(jwksDir, 'jwks.json')
    await writeFile(jwksFile, published)
  })

  afterAll(async () => {
    if (server) {
      if ('closeAllConnections' in server) server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
    await db?.close()
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
  })

  const seal = (plaintext: string, crv: Curve) =>
    python([join(SCRIPTS, 'hpke_encrypt.py'), jwksFile, `--kid=${kidOf(crv)}`], plaintext)

  async function search(token: string) {
    const res = await fetch(patientSearchUrl(base, token))
    return { status: res.status, body: (await res.json()) as Record<string, unknown> }
  }

  it(`is installed (Debian package ${DEBIAN_PACKAGE})`, () => {
    expect(missing, `python3-cryptography is required when CI=true`).toBeUndefined()
  })

  it("computes RFC 9180 A.1.1 and A.3.1 with the script's KDF, key schedule and AEAD", async () => {
    const out = await python([join(SCRIPTS, 'hpke_vectors_check.py'), VECTORS])
    expect(out.split('\n')).toEqual(['A.1.1 ok', 'A.3.1 ok'])
  })

  it.each([
    ['X25519', 1, 91],
    ['P-256', 2, 135],
  ] as const)('finds the beneficiary from a %s token', async (crv, index, length) => {
    const token = await seal(seededMbi(index), crv)
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/)
    expect(token).toHaveLength(length)
    const { status, body } = await search(token)
    expect(status).toBe(200)
    expect(body).toMatchObject({ resourceType: 'Bundle', total: 1 })
    expect((body.entry as { resource: { id: string } }[])[0]!.resource.id).toBe(seededBeneId(index))
  })

  it('finds the beneficiary from an {"mbi","iat","exp"} claims token', async () => {
    const now = Math.floor(Date.now() / 1000)
    const claims = JSON.stringify({ mbi: seededMbi(3), iat: now, exp: now + 300 })
    const { status, body } = await search(await seal(claims, 'X25519'))
    expect(status).toBe(200)
    expect(body).toMatchObject({ resourceType: 'Bundle', total: 1 })
  })

  it('refuses a token whose ciphertext was altered, as a decryption failure', async () => {
    const bytes = Buffer.from(await seal(seededMbi(4), 'P-256'), 'base64url')
    bytes[bytes.length - 1]! ^= 0x01
    const { status, body } = await search(bytes.toString('base64url'))
    expect(status).toBe(400)
    expect(body).toMatchObject({
      issue: [{ code: 'invalid', details: { coding: [{ code: 'ERR_TOKEN_DECRYPTION_FAILED' }] } }],
    })
  })

  it('refuses a token whose suite was altered, as not supported', async () => {
    const bytes = Buffer.from(await seal(seededMbi(5), 'X25519'), 'base64url')
    bytes[8] = 0x03 // aead_id ChaCha20Poly1305
    const { status, body } = await search(bytes.toString('base64url'))
    expect(status).toBe(400)
    expect(body).toMatchObject({
      issue: [
        { code: 'not-supported', details: { coding: [{ code: 'ERR_TOKEN_SUITE_UNSUPPORTED' }] } },
      ],
    })
  })
})
