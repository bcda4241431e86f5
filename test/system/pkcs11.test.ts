/**
 * The PKCS#11 backend against a real SoftHSM2 token (Debian softhsm2; .ci/run installs it, and
 * pkcs11js, an optional dependency, builds at npm ci). Skipped, with the reason in its name, only
 * where the module or pkcs11js is missing; .ci/run checks both are present, so CI never skips.
 * The token is initialised by the test in a temporary directory (SOFTHSM2_CONF). HSM keys are
 * recorded in both stores: the directory always, PostgreSQL on the embedded database (and on the
 * server with DATABASE_URL, where the key commands run with KEY_STORE=postgres too).
 */
import { execFile, execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { needs } from '../support/needs.js'
import { encryptMbiHpke, encryptMbiJwe, patientSearchUrl } from '@sealed-search/client'
import { loadConfig } from '../../src/config/index.js'
import { seed, seededBeneId, seededMbi } from '../../src/db/seed.js'
import {
  generateInStore,
  retireInStore,
  revokeInStore,
  rotateKeys,
} from '../../src/keys/custody/custody.js'
import { dirKeyStore } from '../../src/keys/stores/dir-store.js'
import { doctor } from '../../src/keys/custody/doctor.js'
import { ringFromStore } from '../../src/keys/ring/follow.js'
import type { KeyStore } from '../../src/keys/stores/key-store.js'
import type { KeyRing } from '../../src/keys/ring/keyring.js'
import type { RingKey } from '../../src/keys/ring/ring-key.js'
import { readManifest } from '../../src/keys/stores/manifest.js'
import { postgresKeyStore } from '../../src/keys/stores/pg-store.js'
import { hsmDoctor } from '../../src/keys/pkcs11/doctor.js'
import { closePkcs11Tokens } from '../../src/keys/pkcs11/store.js'
import { createLogger } from '../../src/log/logger.js'
import { startGateway, type RunningGateway } from '../../src/server.js'
import { agreementBattery, agreeOutcome, senderSide } from '../support/agreement-battery.js'
import { errorCode, searchPath, testApp, type Outcome } from '../support/app.js'
import { createTestDatabase, realServer, type TestDatabase } from '../support/db.js'
import { tempDir } from '../support/keys.js'
import { childEnv } from '../support/process.js'
import { softHsmMissing, startSoftHsm, type SoftHsm } from '../support/softhsm.js'
import { jweFor } from '../support/tokens.js'

const run = promisify(execFile)
const missing = softHsmMissing()
const PYTHON = '/usr/bin/python3'
const INTEROP = join(import.meta.dirname, '..', 'interop')
const PASSPHRASE = 'correct horse battery staple, for tests only'
const ringOf = async (store: KeyStore): Promise<KeyRing> =>
  ringFromStore(await store.read(), new Map(), (error) => {
    throw error
  })

/** A partner tool's token: `command` reads the MBI on standard input, prints the token. */
function partnerToken(command: string, args: string[], mbi: string): Promise<string> {
  const child = execFile(command, args)
  child.stdin!.end(mbi)
  return new Promise<string>((resolve, reject) => {
    let text = ''
    child.stdout!.on('data', (c) => (text += c))
    child.on('close', (code) =>
      code === 0 ? resolve(text.trim()) : reject(new Error(`${command} ${args[1]}: exit ${code}`)),
    )
  })
}

/** Tokens to `key` from jwcrypto (JWE), the latchset jose CLI (JWE), cryptography (HPKE), the client. */
async function partnerTokens(key: RingKey, jwksFile: string, dir: string, mbi: string) {
  const tokens: [string, string][] = []
  for (const [alg, enc] of [
    ['ECDH-ES', 'A256GCM'],
    ['ECDH-ES+A256KW', 'A128GCM'],
  ] as const) {
    const args = [
      '-I',
      join(INTEROP, 'jwcrypto_encrypt.py'),
      jwksFile,
      alg,
      enc,
      `--kid=${key.kid}`,
    ]
    tokens.push([`jwcrypto ${alg}`, await partnerToken(PYTHON, args, mbi)])
  }
  // The latchset jose CLI (Debian jose): the recipient's public JWK, the MBI on standard input.
  const jwkFile = join(dir, 'recipient.jwk')
  await writeFile(jwkFile, JSON.stringify({ ...key.publicJwk, alg: 'ECDH-ES' }))
  const template = JSON.stringify({ protected: { alg: 'ECDH-ES', enc: 'A256GCM', kid: key.kid } })
  const jose = execFileSync('jose', ['jwe', 'enc', '-i', template, '-I-', '-k', jwkFile, '-c'], {
    input: mbi,
  })
  tokens.push(['jose CLI', jose.toString('utf8').trim()])
  const hpkeArgs = ['-I', join(INTEROP, 'hpke_encrypt.py'), jwksFile, `--kid=${key.kid}`]
  tokens.push(['HPKE (cryptography)', await partnerToken(PYTHON, hpkeArgs, mbi)])
  tokens.push(['HPKE (client)', await encryptMbiHpke(mbi, key.publicJwk)])
  tokens.push(['JWE (client)', await encryptMbiJwe(mbi, key.publicJwk)])
  return tokens
}

describe.runIf(needs(missing === undefined, `keys in a SoftHSM2 token: ${missing}`))(
  `keys in a SoftHSM2 token${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    let hsm: SoftHsm
    let db: TestDatabase
    const dirs: string[] = []
    const newDir = async (prefix: string) => {
      const dir = await tempDir(prefix)
      dirs.push(dir)
      return dir
    }

    beforeAll(async () => {
      hsm = await startSoftHsm()
      db = await createTestDatabase()
      await seed(db.sql, { count: 12 })
    }, 120_000)

    afterAll(async () => {
      closePkcs11Tokens()
      await db?.close()
      for (const dir of dirs) await rm(dir, { recursive: true, force: true })
      await hsm?.close()
    })

    const stores: [string, () => Promise<KeyStore>][] = [
      [
        'directory',
        async () => dirKeyStore(await newDir('sealed-hsm-dir-'), { pkcs11: hsm.options }),
      ],
      [
        'postgres',
        async () => {
          await db.sql`delete from key_ring_keys`
          await db.sql`update key_ring set version = 0, generation = 0, ring_salt = null, ring_check = null, ring_mac = null`
          return postgresKeyStore({ sql: db.sql, passphrase: PASSPHRASE, pkcs11: hsm.options })
        },
      ],
    ]

    describe.each(stores)('recorded in the %s store', (kind, open) => {
      let store: KeyStore
      let key: RingKey

      beforeAll(async () => {
        store = await open()
        const entry = await generateInStore(store, 'P-256', 0, undefined, { hsm: true })
        await generateInStore(store, 'X25519', 0)
        key = (await ringOf(store)).get(entry.kid)!
      }, 60_000)

      it('is recorded by kid with its backend and token references, and no private material', async () => {
        const entry = (await store.read()).entries.find((e) => e.kid === key.kid)!
        expect(entry).toMatchObject({
          crv: 'P-256',
          state: 'active',
          backend: 'pkcs11',
          pkcs11: { token: hsm.options.tokenLabel, id: key.kid },
        })
        expect(key.store).toBe('pkcs11')
        if (kind === 'directory') {
          const files = (await readdir(store.location)).filter((f) => f.startsWith(key.kid))
          expect(files).toEqual([`${key.kid}.public.jwk.json`])
          const text = await readFile(join(store.location, files[0]!), 'utf8')
          expect(JSON.parse(text)).not.toHaveProperty('d')
          expect((await readManifest(store.location)).keys[0]).not.toHaveProperty('d')
        } else {
          const [row] = await db.sql<
            { custody: string; sealed: string | null; token: string; id: string; jwk: object }[]
          >`select custody, sealed_private_jwk as sealed, hsm_token as token, hsm_id as id,
              public_jwk as jwk from key_ring_keys where kid = ${key.kid}`
          expect(row).toMatchObject({ custody: 'hsm', sealed: null, token: hsm.options.tokenLabel })
          expect(row!.id).toBe(key.kid)
          expect(row!.jwk).not.toHaveProperty('d')
        }
      })

      it('computes the sender’s Z in the token and refuses every invalid point like the in-process key', async () => {
        await agreementBattery(key, 10)
      })

      it('passes doctor: in the token, sensitive, never extractable', async () => {
        const findings =
          kind === 'directory'
            ? await doctor(store.location, { pkcs11: hsm.options })
            : await hsmDoctor((await store.read()).entries, hsm.options, new Date())
        expect(findings.filter((f) => f.level === 'error')).toEqual([])
        expect(findings.map((f) => f.message)).toContain(
          `${key.kid}: in token ${hsm.options.tokenLabel}, sensitive, never extractable, can derive`,
        )
      })

      it('rotates in the token, retires and revokes, and the new ring decrypts with the new key', async () => {
        const [staged] = await rotateKeys(store, {
          curves: ['P-256'],
          graceSeconds: 3600,
          publishDelaySeconds: 0,
        })
        expect(staged!.added).toMatchObject({ backend: 'pkcs11', crv: 'P-256', state: 'active' })
        expect(staged!.retiring.map((k) => k.kid)).toEqual([key.kid])
        const rotated = await ringOf(store)
        const fresh = rotated.get(staged!.added.kid)!
        expect(fresh.store).toBe('pkcs11')
        expect(rotated.jwks().keys.map((k) => k.kid)).toContain(fresh.kid)
        expect(rotated.jwks().keys.map((k) => k.kid)).not.toContain(key.kid)
        await agreementBattery(fresh, 2)
        await agreementBattery(rotated.get(key.kid)!, 1) // retiring: still accepted
        await revokeInStore(store, key.kid)
        const third = await generateInStore(store, 'P-256', 0, undefined, { hsm: true })
        await retireInStore(store, third.kid)
        const after = await ringOf(store)
        expect(after.get(key.kid)).toBeUndefined()
        expect(after.get(third.kid)).toBeUndefined()
        expect(after.get(fresh.kid)!.store).toBe('pkcs11')
        const entries = (await store.read()).entries
        expect(entries.find((e) => e.kid === key.kid)!.state).toBe('revoked')
        expect(entries.find((e) => e.kid === third.kid)!.state).toBe('retired')
      })

      it('refuses X25519 in a token without CKM_EC_MONTGOMERY_KEY_PAIR_GEN, saying so, and records nothing', async () => {
        const before = await store.version()
        await expect(
          generateInStore(store, 'X25519', 0, undefined, { hsm: true }),
        ).rejects.toMatchObject({
          code: 'ERR_KEYS_HSM_CURVE_UNSUPPORTED',
          message: expect.stringContaining('CKM_EC_MONTGOMERY_KEY_PAIR_GEN'),
        })
        expect(await store.version()).toBe(before)
      })
    })

    describe('behind the search endpoint', () => {
      let ring: KeyRing
      let key: RingKey
      let app: ReturnType<typeof testApp>['app']
      let dir: string
      let jwksFile: string

      beforeAll(async () => {
        dir = await newDir('sealed-hsm-app-')
        const store = dirKeyStore(dir, { pkcs11: hsm.options })
        const entry = await generateInStore(store, 'P-256', 0, undefined, { hsm: true })
        await generateInStore(store, 'X25519', 0)
        ring = await ringOf(store)
        key = ring.get(entry.kid)!
        app = testApp(ring, db.sql).app
        jwksFile = join(dir, 'jwks.json')
        await writeFile(jwksFile, JSON.stringify(ring.jwks()))
      }, 60_000)

      it('is reported sensitive and never extractable by pkcs11-tool (OpenSC)', async () => {
        const { stdout } = await run(
          'pkcs11-tool',
          [
            '--module',
            hsm.options.module,
            '--token-label',
            hsm.options.tokenLabel,
            '--login',
            '--pin',
            hsm.options.pin,
            '--list-objects',
            '--type',
            'privkey',
          ],
          { env: { ...process.env, ...hsm.env } },
        )
        const block = stdout
          .split(/(?=Private Key Object)/)
          .find((b) => b.includes(`label:      ${key.kid}`))
        expect(block).toBeDefined()
        expect(block).toMatch(/Access:\s+sensitive, always sensitive, never extractable, local/)
        expect(block).toMatch(/Usage:\s+derive\n/)
      })

      it('keeps every Z right under concurrency (more calls than sessions)', async () => {
        const sides = Array.from({ length: 40 }, () => senderSide(key))
        const results = await Promise.all(sides.map((s) => agreeOutcome(key, s.epk)))
        expect(results).toEqual(sides.map((s) => s.z))
      })

      it('finds the right Patient for JWE and HPKE tokens from jwcrypto, the jose CLI, cryptography and the client', async () => {
        const tokens = await partnerTokens(key, jwksFile, dir, seededMbi(5))
        expect(tokens.length).toBe(6)
        for (const [who, token] of tokens) {
          const res = await app.request(searchPath(token))
          const bundle = (await res.json()) as {
            total: number
            entry: { resource: { id: string } }[]
          }
          expect([who, res.status, bundle.total, bundle.entry[0]!.resource.id]).toEqual([
            who,
            200,
            1,
            seededBeneId(5),
          ])
        }
      }, 60_000)
    })

    /** `npm run keys` as a custodian runs it, with the token's settings in its environment. */
    async function keysCli(args: string[], env: Record<string, string>) {
      try {
        const r = await run(
          process.execPath,
          ['node_modules/tsx/dist/cli.mjs', 'scripts/keys.ts', ...args],
          { env: childEnv({ ...hsm.env, ...env }) },
        )
        return { code: 0, ...r }
      } catch (e) {
        const err = e as { code: number; stdout: string; stderr: string }
        return { code: err.code, stdout: err.stdout, stderr: err.stderr }
      }
    }

    const cliStores: [
      string,
      () => Promise<{ env: Record<string, string>; close(): Promise<void> }>,
    ][] = [
      [
        'KEY_STORE=dir',
        async () => ({ env: { KEYS_DIR: await newDir('sealed-hsm-cli-') }, close: async () => {} }),
      ],
    ]
    if (realServer) {
      cliStores.push([
        'KEY_STORE=postgres',
        async () => {
          const own = await createTestDatabase()
          const env = {
            KEY_STORE: 'postgres',
            DATABASE_URL: own.url,
            DATABASE_SCHEMA: own.schema!,
            KEYS_PASSPHRASE: PASSPHRASE,
            AUDIT_HMAC_KEY: randomBytes(32).toString('hex'),
          }
          return { env, close: () => own.close() }
        },
      ])
    }

    describe.each(cliStores)('through npm run keys with %s', (_kind, open) => {
      let env: Record<string, string>
      let close: () => Promise<void> = async () => {}
      beforeAll(async () => ({ env, close } = await open()), 60_000)
      afterAll(() => close())

      it('generates, lists, doctors, rotates, retires and revokes a key in the token', async () => {
        const generated = await keysCli(['generate', '--curve', 'P-256', '--hsm'], env)
        expect(generated.code).toBe(0)
        const kid = generated.stdout.trim()
        expect(generated.stderr).toContain(`private key in token ${hsm.options.tokenLabel}`)

        const listed = await keysCli(['list'], env)
        expect(listed.code).toBe(0)
        const line = listed.stdout.split('\n').find((l) => l.startsWith(kid))!
        expect(line).toContain('\tactive\t')
        expect(line).toMatch(new RegExp(`\\tpkcs11 ${hsm.options.tokenLabel} ok\\t(current|next)$`))

        const checked = await keysCli(['doctor'], env)
        expect([checked.code, checked.stdout]).toEqual([
          0,
          expect.stringContaining(`${kid}: in token`),
        ])

        const rotated = await keysCli(
          ['rotate', '--curve', 'P-256', '--grace', '1h', '--publish-delay', '0', '--force'],
          env,
        )
        expect(rotated.code).toBe(0)
        const next = rotated.stdout.trim()
        expect(next).toMatch(/^[A-Za-z0-9_-]{43}$/)
        const relisted = (await keysCli(['list'], env)).stdout
        expect(relisted.split('\n').find((l) => l.startsWith(next))).toMatch(
          /\tpkcs11 \S+ ok\t(current|next)$/,
        )
        expect(relisted.split('\n').find((l) => l.startsWith(kid))).toContain('\tretiring\t')

        expect((await keysCli(['revoke', kid], env)).code).toBe(0)
        const spare = (await keysCli(['generate', '--curve', 'P-256', '--hsm'], env)).stdout.trim()
        expect((await keysCli(['retire', spare], env)).code).toBe(0)
        const states = (await keysCli(['list'], env)).stdout
        expect(states.split('\n').find((l) => l.startsWith(kid))).toContain('\trevoked\t')
        expect(states.split('\n').find((l) => l.startsWith(spare))).toContain('\tretired\t')
        expect((await keysCli(['doctor'], env)).code).toBe(0)
      }, 120_000)

      it('destroys a retired key in the token: pkcs11-tool finds no private key for it, doctor passes', async () => {
        const privateKeys = async () =>
          (
            await run(
              'pkcs11-tool',
              [
                ...['--module', hsm.options.module, '--token-label', hsm.options.tokenLabel],
                ...['--login', '--pin', hsm.options.pin, '--list-objects', '--type', 'privkey'],
              ],
              { env: { ...process.env, ...hsm.env } },
            )
          ).stdout
        const kid = (await keysCli(['generate', '--curve', 'P-256', '--hsm'], env)).stdout.trim()
        const keep = (await keysCli(['generate', '--curve', 'P-256', '--hsm'], env)).stdout.trim()
        const refused = await keysCli(['destroy', kid], env)
        expect(refused.code).toBe(1)
        expect(refused.stderr).toMatch(/is (active|pending): only a retired or revoked key/)
        expect(await privateKeys()).toContain(`label:      ${kid}`)

        // --force: with KEY_STORE=postgres the second key is still pending (publish delay).
        expect((await keysCli(['retire', kid, '--force'], env)).code).toBe(0)
        const destroyed = await keysCli(['destroy', kid], env)
        expect([destroyed.code, destroyed.stderr]).toEqual([
          0,
          expect.stringContaining('destroyed'),
        ])
        const left = await privateKeys()
        expect(left).not.toContain(`label:      ${kid}`)
        expect(left).toContain(`label:      ${keep}`)
        const listed = (await keysCli(['list'], env)).stdout
        expect(listed.split('\n').find((l) => l.startsWith(kid))).toContain('\tdestroyed\t')
        const checked = await keysCli(['doctor'], env)
        expect(checked.stdout).not.toContain(`${kid} is destroyed but`)
      }, 120_000)

      it('refuses --curve X25519 --hsm with the missing mechanism named, exit 1, and records nothing', async () => {
        const before = (await keysCli(['list'], env)).stdout
        const refused = await keysCli(['generate', '--curve', 'X25519', '--hsm'], env)
        expect(refused.code).toBe(1)
        expect(refused.stderr).toContain('CKM_EC_MONTGOMERY_KEY_PAIR_GEN')
        expect(refused.stderr).not.toContain(hsm.options.pin)
        expect((await keysCli(['list'], env)).stdout).toBe(before)
      }, 60_000)

      it('refuses --hsm without the PKCS11 settings, naming them', async () => {
        const refused = await keysCli(['generate', '--hsm'], {
          ...env,
          PKCS11_MODULE: '',
          PKCS11_TOKEN_LABEL: '',
          PKCS11_PIN: '',
        })
        expect(refused.code).toBe(1)
        expect(refused.stderr).toContain('PKCS11_MODULE, PKCS11_TOKEN_LABEL and PKCS11_PIN')
      }, 60_000)
    })

    // Last: it removes the token.
    describe('a gateway with a key in the token, over real HTTP', () => {
      let gateway: RunningGateway | undefined
      let dir: string
      let key: RingKey
      const schema = `hsm_${randomBytes(5).toString('hex')}`
      afterAll(async () => {
        await gateway?.close()
        if (realServer) await db.sql`drop schema if exists ${db.sql(schema)} cascade`
      })

      it('serves the right Patient under concurrent searches, reports its ring version to keys status, and answers 503 ERR_KEY_UNAVAILABLE, never 500, and turns unready, once the token is gone', async () => {
        dir = await newDir('sealed-hsm-gateway-')
        const keyDir = join(dir, 'keys')
        const store = dirKeyStore(keyDir, { pkcs11: hsm.options })
        await generateInStore(store, 'P-256', 0, undefined, { hsm: true })
        await generateInStore(store, 'X25519', 0)
        const url = process.env.DATABASE_URL
        const config = loadConfig({
          PORT: '0',
          KEYS_DIR: keyDir,
          KEYS_AUTOGENERATE: 'false',
          DATA_DIR: join(dir, 'data'),
          SEED_COUNT: '20',
          AUDIT_LOG: join(dir, 'audit.log'),
          ...hsm.env,
          ...(url ? { DATABASE_URL: url, DATABASE_SCHEMA: schema } : {}),
        })
        gateway = await startGateway(config, createLogger('silent'))
        if (url) await seed(gateway.db.sql, { count: 20 })
        key = gateway.keys.current().keys.find((k) => k.crv === 'P-256')!
        expect(key.store).toBe('pkcs11')

        // More requests in flight than the token has sessions.
        const searches = Array.from({ length: 24 }, async (_, n) => {
          const i = n % 6
          const token = await encryptMbiJwe(seededMbi(i), key.publicJwk)
          const res = await fetch(patientSearchUrl(gateway!.url, token))
          const body = (await res.json()) as { entry?: { resource: { id: string } }[] }
          return [res.status, body.entry?.[0]?.resource.id]
        })
        const answers = await Promise.all(searches)
        expect(answers).toEqual(Array.from({ length: 24 }, (_, n) => [200, seededBeneId(n % 6)]))

        const status = await keysCli(['status', '--gateways', gateway.url], { KEYS_DIR: keyDir })
        expect([status.code, status.stdout]).toEqual([0, expect.stringContaining('converged')])

        // Readiness computes once with the token's key: ready while the token answers.
        expect((await fetch(`${gateway.url}/health/ready`)).status).toBe(200)

        const token = await encryptMbiJwe(seededMbi(1), key.publicJwk)
        hsm.removeToken()
        // Not ready once the token is gone, so a load balancer sends partners elsewhere.
        const ready = await fetch(`${gateway.url}/health/ready`)
        expect(ready.status).toBe(503)
        expect(errorCode((await ready.json()) as Outcome)).toBe('ERR_KEY_UNAVAILABLE')
        for (let i = 0; i < 3; i++) {
          const res = await fetch(patientSearchUrl(gateway.url, token))
          expect(res.status).toBe(503)
          expect(res.headers.get('retry-after')).toBe('5')
          expect(errorCode((await res.json()) as Outcome)).toBe('ERR_KEY_UNAVAILABLE')
        }
        // The in-process X25519 key of the same ring still serves.
        const x25519 = gateway.keys.current().keys.find((k) => k.crv === 'X25519')!
        const res = await fetch(patientSearchUrl(gateway.url, await jweFor(x25519, seededMbi(1))))
        expect(res.status).toBe(200)
        // And doctor says the key is not there.
        const checked = await keysCli(['doctor'], { KEYS_DIR: keyDir })
        expect(checked.code).toBe(1)
        expect(checked.stdout).toMatch(/^error/m)
      }, 120_000)
    })
  },
)
