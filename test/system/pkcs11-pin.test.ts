/**
 * A gateway whose PKCS#11 PIN is wrong must not lock the token: a real token locks its user PIN
 * after a few wrong ones, and an instance that retried at every poll would lock the fleet out.
 * The gateway process talks to a real SoftHSM2 token through OpenSC's pkcs11-spy (Debian
 * opensc-pkcs11, installed with opensc), which logs every PKCS#11 call the gateway makes: the
 * C_Login calls are counted there, outside the gateway. The key ring is a directory on the
 * embedded database, or KEY_STORE=postgres on the server with DATABASE_URL.
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, realServer, type TestDatabase } from '../support/db.js'
import { needs } from '../support/needs.js'
import { childEnv, start, type Running } from '../support/process.js'
import { SOFTHSM_MODULE, softHsmMissing, startSoftHsm, type SoftHsm } from '../support/softhsm.js'
import { tempDir } from '../support/temp.js'

const run = promisify(execFile)
const SPY = '/usr/lib/x86_64-linux-gnu/pkcs11/pkcs11-spy.so'
const WRONG_PIN = '999999'
const PASSPHRASE = 'correct horse battery staple, for tests only'
const missing = softHsmMissing() ?? (existsSync(SPY) ? undefined : `${SPY} (opensc) is missing`)

/** The number of C_Login calls in pkcs11-spy's log (each call starts `N: C_Login`). */
async function logins(spyLog: string): Promise<number> {
  const text = existsSync(spyLog) ? await readFile(spyLog, 'latin1') : ''
  return [...text.matchAll(/^\d+: C_Login$/gm)].length
}

/** One line of a Prometheus exposition, its value (0 when absent). */
function sample(metrics: string, series: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? 0 : Number(line.split(' ').at(-1))
}

// CI installs all of it (.ci/run): there a missing part fails the test instead of skipping it.
describe.runIf(
  needs(missing === undefined || process.env.CI === 'true', `a wrong PKCS#11 PIN: ${missing}`),
)('a gateway given a wrong PKCS#11 PIN', () => {
  let hsm: SoftHsm
  let db: TestDatabase | undefined
  let gateway: Running | undefined
  let store: Record<string, string>
  let dir: string

  /** `npm run keys` as a custodian runs it, with the right PIN. */
  async function keysCli(args: string[]) {
    const r = await run(
      process.execPath,
      ['node_modules/tsx/dist/cli.mjs', 'scripts/keys.ts', ...args],
      {
        env: childEnv({ ...hsm.env, ...store }),
      },
    )
    return r.stdout.trim()
  }

  /** The gateway process, reaching the token through pkcs11-spy (logging to `spyLog`). */
  function startWithWrongPin(spyLog: string): Running {
    return start(
      process.execPath,
      ['--import', 'tsx', 'src/index.ts'],
      childEnv({
        ...hsm.env,
        ...store,
        HOST: '127.0.0.1',
        PORT: '0',
        KEYS_POLL_INTERVAL: '1',
        PKCS11_MODULE: SPY,
        PKCS11SPY: SOFTHSM_MODULE,
        PKCS11SPY_OUTPUT: spyLog,
        PKCS11_PIN: WRONG_PIN,
      }),
    )
  }

  beforeAll(async () => {
    hsm = await startSoftHsm()
    dir = await tempDir('sealed-pin-')
    if (realServer) {
      db = await createTestDatabase()
      store = {
        KEY_STORE: 'postgres',
        DATABASE_URL: db.url,
        DATABASE_SCHEMA: db.schema!,
        KEYS_PASSPHRASE: PASSPHRASE,
        AUDIT_HMAC_KEY: randomBytes(32).toString('hex'),
      }
    } else {
      store = { KEYS_DIR: join(dir, 'keys'), DATA_DIR: join(dir, 'data'), SEED_COUNT: '5' }
    }
  }, 60_000)

  afterAll(async () => {
    await gateway?.stop()
    await db?.close()
    await hsm?.close()
  })

  it('makes exactly one C_Login in 30 s of 1 s polls, answers readiness 503 saying why, and logs in once more on SIGHUP', async () => {
    // The in-process key first: into a ring with no published key, it is active at once.
    const processKid = await keysCli(['generate', '--curve', 'X25519'])
    const hsmKid = await keysCli(['generate', '--curve', 'P-256', '--hsm'])
    const spyLog = join(dir, 'pkcs11-spy.log')
    gateway = startWithWrongPin(spyLog)
    const [, url] = await gateway.waitFor(/is listening on (http:\/\/\S+)/)
    const started = Date.now()

    // The token's key is left out; the in-process key is served.
    const jwks = (await (await fetch(`${url}/.well-known/jwks.json`)).json()) as {
      keys: { kid: string }[]
    }
    expect(jwks.keys.map((k) => k.kid)).toEqual([processKid])
    expect(jwks.keys.map((k) => k.kid)).not.toContain(hsmKid)

    await sleep(Math.max(0, 30_000 - (Date.now() - started)))
    expect(await logins(spyLog)).toBe(1)

    const ready = await fetch(`${url}/health/ready`)
    expect(ready.status).toBe(503)
    expect(ready.headers.get('retry-after')).toBe('5')
    const outcome = JSON.stringify(await ready.json())
    expect(outcome).toContain('ERR_KEYS_HSM_PIN_REFUSED')
    expect(outcome).not.toContain(WRONG_PIN)

    const metrics = await (await fetch(`${url}/metrics`)).text()
    expect(sample(metrics, 'sealed_search_pkcs11_logins_total{result="CKR_PIN_INCORRECT"}')).toBe(1)
    expect(sample(metrics, 'sealed_search_pkcs11_login_refused{code="CKR_PIN_INCORRECT"}')).toBe(1)
    // The polls did run (one reload a second, each leaving the token's key out), without a login.
    expect(
      sample(
        metrics,
        'sealed_search_key_ring_reload_failures_total{code="ERR_KEYS_HSM_PIN_REFUSED"}',
      ),
    ).toBeGreaterThanOrEqual(20)

    // SIGHUP: the operator asks for one more try; it is refused again, and held back again.
    process.kill(gateway.child.pid!, 'SIGHUP')
    await sleep(5_000)
    expect(await logins(spyLog)).toBe(2)
    expect((await fetch(`${url}/health/ready`)).status).toBe(503)

    expect(gateway.output()).not.toContain(WRONG_PIN)
    expect(gateway.output()).not.toContain(hsm.options.pin)
  }, 120_000)

  it('stays up and unready, when every active key is in the token, after one C_Login', async () => {
    await gateway?.stop()
    gateway = undefined
    // Revoke the in-process key: every key the ring publishes is then in the token.
    const list = await keysCli(['list'])
    const x25519 = list
      .split('\n')
      .find((l) => l.includes('\tX25519\t'))!
      .split('\t')[0]!
    await keysCli(['revoke', x25519])
    const spyLog = join(dir, 'pkcs11-spy-start.log')
    // Not stopped: a supervisor restarting it would try the PIN again at every start.
    gateway = startWithWrongPin(spyLog)
    const [, url] = await gateway.waitFor(/is listening on (http:\/\/\S+)/)
    await sleep(5_000)
    const ready = await fetch(`${url}/health/ready`)
    expect(ready.status).toBe(503)
    expect(JSON.stringify(await ready.json())).toContain('ERR_KEYS_HSM_PIN_REFUSED')
    const jwks = (await (await fetch(`${url}/.well-known/jwks.json`)).json()) as { keys: unknown[] }
    expect(jwks.keys).toEqual([])
    expect(gateway.output()).toMatch(/the PKCS#11 token refused PKCS11_PIN/)
    expect(gateway.output()).not.toContain('run: npm run keys -- generate')
    expect(gateway.output()).not.toContain(WRONG_PIN)
    expect(await logins(spyLog)).toBe(1)
    const stopping = gateway
    gateway = undefined
    expect(await stopping.stop()).toBe(0)
  }, 120_000)
})
