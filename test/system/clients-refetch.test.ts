/**
 * The Python, Go and Java partner clients against a real gateway process after an emergency
 * revocation: each starts from a JWKS fetched before it (the revoked key in it), is answered
 * ERR_TOKEN_KID_UNKNOWN, fetches the JWKS again and finds the Patient with the key published
 * since, after one retry; a JWKS with no key of the wanted curve is fetched again; and however
 * often it is asked, each client's cache fetches at most once per rate-limit interval.
 */
import { execFile, spawnSync } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seededBeneId, seededMbi } from '../../src/db/seed.js'
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js'
import { runWithInput } from '../support/partner-cli.js'
import { childEnv } from '../support/process.js'
import { tempDir } from '../support/temp.js'

const run = promisify(execFile)
const PYTHON = '/usr/bin/python3'
const PYTHON_PACKAGE = fileURLToPath(new URL('../../clients/python/', import.meta.url))

interface Jwk {
  kid: string
  crv: string
}

/** What each client program prints: its searches (status, kid, retried, Patient ids), fetches. */
interface Report {
  results: [number, string, boolean, string[]][]
  otherCurve: [number, string, boolean, string[]]
  fetches: number
}

const PYTHON_PROGRAM = `
import json, sys
from sealed_search_client import JwksCache, parse_jwks, search_patients
gateway, stale_file = sys.argv[1], sys.argv[2]
mbi = sys.stdin.read().strip()
stale = parse_jwks(open(stale_file).read())
cache = JwksCache(gateway + "/.well-known/jwks.json", initial=stale)
ids = lambda body: [e["resource"]["id"] for e in body.get("entry", [])]
results = []
for _ in range(5):
    status, body, kid, retried = search_patients(gateway, mbi, cache, "P-256", "jwe", ttl_seconds=300)
    results.append([status, kid, retried, ids(body)])
for _ in range(50):
    cache.refresh()
no_x25519 = JwksCache(gateway + "/.well-known/jwks.json", initial={"keys": [k for k in stale["keys"] if k["crv"] != "X25519"]})
status, body, kid, retried = search_patients(gateway, mbi, no_x25519, "X25519", "hpke")
print(json.dumps({"results": results, "otherCurve": [status, kid, retried, ids(body)], "fetches": cache.fetches}))
`

describe('the partner clients after an emergency revocation', () => {
  let keysDir: string
  let gateway: GatewayProcess
  let staleFile: string
  let revoked: string
  let next: string
  let x25519: string

  async function keys(...args: string[]): Promise<string> {
    const r = await run(
      process.execPath,
      ['node_modules/tsx/dist/cli.mjs', 'scripts/keys.ts', ...args],
      { env: childEnv({ KEYS_DIR: keysDir }) },
    )
    return r.stdout.trim()
  }

  async function published(): Promise<Jwk[]> {
    const res = await fetch(`${gateway.url}/.well-known/jwks.json`)
    return ((await res.json()) as { keys: Jwk[] }).keys
  }

  function expectReport(report: Report): void {
    const bene = seededBeneId(7)
    expect(report.results[0]).toEqual([200, next, true, [bene]])
    for (const r of report.results.slice(1)) expect(r).toEqual([200, next, false, [bene]])
    expect(report.otherCurve).toEqual([200, x25519, false, [bene]])
    // One fetch after the revocation, however many refreshes were asked within the interval.
    expect(report.fetches).toBe(1)
  }

  beforeAll(async () => {
    const dir = await tempDir('sealed-clients-refetch-')
    keysDir = join(dir, 'keys')
    revoked = await keys('generate', '--curve', 'P-256')
    x25519 = await keys('generate', '--curve', 'X25519')
    gateway = await startGatewayProcess({ KEYS_DIR: keysDir, KEYS_POLL_INTERVAL: '1' })
    // What a partner cached before the revocation.
    staleFile = join(dir, 'stale-jwks.json')
    await writeFile(staleFile, gateway.jwksText)
    // The emergency: a new key, the old one revoked.
    next = await keys('generate', '--curve', 'P-256')
    await keys('revoke', revoked)
    for (let i = 0; i < 150; i++) {
      const kids = (await published()).map((k) => k.kid)
      if (kids.includes(next) && !kids.includes(revoked)) break
      await sleep(100)
    }
    const refused = await fetch(`${gateway.url}/.well-known/jwks.json`)
    expect(JSON.stringify(await refused.json())).not.toContain(revoked)
  }, 120_000)

  afterAll(() => gateway?.stop())

  const python = spawnSync(PYTHON, ['-E', '-s', '-c', 'import jwcrypto.jwe, cryptography'])
  it.skipIf(python.status !== 0 && process.env.CI !== 'true')(
    'Python: JwksCache and search_patients',
    async () => {
      const r = await runWithInput(
        PYTHON,
        ['-E', '-s', '-c', PYTHON_PROGRAM, gateway.url, staleFile],
        seededMbi(7),
        { cwd: PYTHON_PACKAGE },
      )
      expect(r.stderr).toBe('')
      expectReport(JSON.parse(r.stdout) as Report)
    },
    60_000,
  )
})
