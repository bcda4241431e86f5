/**
 * `npm run logs:scan` on logs written during this test by the programs that write them in
 * production: a gateway process (its JSON access lines) behind real haproxy (Common Log Format,
 * `option httplog clf`). Partners search with JWE and HPKE tokens; a careless client puts a
 * plaintext MBI in the URL in three spellings. The gateway's own log scans clean (it masks);
 * haproxy's holds the plaintext, found by line and reported masked, plain, gzip or on stdin.
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encryptMbi, patientSearchUrl } from '@sealed-search/client'
import { seededMbi } from '../../src/db/seed.js'
import type { ScanReport } from '../../src/logscan/index.js'
import { loadKeyRing } from '../../src/keys/ring/open-key.js'
import { addGeneratedKey } from '../../src/keys/custody/bootstrap.js'
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js'
import { startHaproxy, type Balancer } from '../support/haproxy.js'
import { tempDir } from '../support/keys.js'
import { childEnv } from '../support/process.js'
import { runScript, scriptArgs, type ScriptResult } from '../support/scripts.js'

const US_MBI = 'http://hl7.org/fhir/sid/us-mbi'
const TOKENS = 8

let dir: string
let keysDir: string
let gateway: GatewayProcess | undefined
let balancer: Balancer | undefined
let gatewayLog: string
let haproxyLog: string
const plaintext: string[] = []

beforeAll(async () => {
  dir = await tempDir('sealed-logscan-')
  keysDir = join(dir, 'keys')
  await addGeneratedKey(keysDir, 'P-256')
  await addGeneratedKey(keysDir, 'X25519')
  gateway = await startGatewayProcess({ KEYS_DIR: keysDir, LOG_LEVEL: 'info' })
  const port = Number(new URL(gateway.url).port)
  balancer = await startHaproxy(dir, [{ name: 'gw1', port }], { accessLog: true })
  const ring = await loadKeyRing(keysDir)
  for (let i = 0; i < TOKENS; i++) {
    const token = await encryptMbi(seededMbi(i), ring.keys[i % 2]!.publicJwk, {
      format: i < TOKENS / 2 ? 'jwe' : 'hpke',
    })
    const res = await fetch(patientSearchUrl(balancer.url, token))
    expect(res.status).toBe(200)
  }
  const mbi = seededMbi(9)
  const dashed = `${mbi.slice(0, 4)}-${mbi.slice(4, 7)}-${mbi.slice(7)}`
  plaintext.push(mbi, dashed.toLowerCase(), `%3${mbi[0]}${mbi.slice(1)}`)
  for (const spelling of plaintext) {
    const res = await fetch(`${balancer.url}/v2/fhir/Patient?identifier=${US_MBI}%7C${spelling}`)
    expect(res.status).toBeGreaterThanOrEqual(400)
    await res.arrayBuffer()
  }
  // Both write a line per request once it is answered: wait until every one is there.
  const requests = TOKENS + plaintext.length
  const count = (text: string, pattern: RegExp) => text.match(pattern)?.length ?? 0
  for (let i = 0; i < 100; i++) {
    const gw = count(gateway.running.output(), /"path":"\/v2\/fhir\/Patient"/g)
    const ha = count(balancer.running.output(), /"GET \/v2\/fhir\/Patient\?/g)
    if (gw >= requests && ha >= requests) break
    await new Promise((r) => setTimeout(r, 100))
  }
  gatewayLog = join(dir, 'gateway.log')
  haproxyLog = join(dir, 'haproxy.log')
  await writeFile(gatewayLog, gateway.running.output())
  await writeFile(haproxyLog, balancer.running.output())
}, 120_000)

afterAll(async () => {
  await balancer?.stop()
  await gateway?.stop()
})

const json = (result: ScriptResult) => JSON.parse(result.stdout) as ScanReport

/** Runs the built command with `input` on its standard input. */
function scanStdin(args: string[], input: Buffer): Promise<ScriptResult> {
  const [command, argv] = scriptArgs('logs-scan', [...args, '-'])
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { env: childEnv({}) })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }))
    child.stdin.end(input)
  })
}

function expectNoPlaintext(output: string) {
  for (const spelling of plaintext) {
    expect(output.toLowerCase()).not.toContain(decodeURIComponent(spelling).toLowerCase())
  }
}

describe('logs:scan on logs written by a gateway and haproxy', () => {
  it("finds the gateway's own log clean, every token counted under its active key", async () => {
    const result = await runScript('logs-scan', ['--json', '--dir', keysDir, gatewayLog])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const report = json(result)
    // Every line naming the encrypted system carries one token: the searches, and the example
    // search the gateway prints when it starts.
    const text = readFileSync(gatewayLog, 'utf8')
    const expected = text.split('\n').filter((l) => l.includes('/mbi-encrypted')).length
    expect(expected).toBeGreaterThanOrEqual(TOKENS)
    expect(report).toMatchObject({ tokens: expected, decryptable: expected, classic: expected })
    expect(report.formats.json).toBeGreaterThan(TOKENS)
    expect(report.plaintext.count).toBe(0)
    const ring = await loadKeyRing(keysDir)
    for (const key of ring.keys) {
      expect(report.keys).toContainEqual(
        expect.objectContaining({
          kid: key.kid,
          state: 'active',
          hpke: 2,
        }),
      )
    }
  })

  it("finds the plaintext in haproxy's log by line, masked, and exits 3", async () => {
    const result = await runScript('logs-scan', ['--dir', keysDir, haproxyLog])
    expect(result.code).toBe(3)
    expect(result.stdout).toMatch(/^identifier tokens: 8$/m)
    expect(result.stdout).toMatch(/^plaintext identifiers: 3$/m)
    const lines = readFileSync(haproxyLog, 'utf8').split('\n')
    for (const spelling of plaintext) {
      const at = lines.findIndex((l) => l.includes(`%7C${spelling} `)) + 1
      expect(at).toBeGreaterThan(0)
      expect(result.stdout).toContain(`${haproxyLog}:${at}: MBI `)
    }
    expectNoPlaintext(result.stdout + result.stderr)
  })

  it('reads the same log gzip-compressed on standard input, with the keys from the JWKS', async () => {
    const gz = gzipSync(readFileSync(haproxyLog))
    const result = await scanStdin(
      ['--json', '--jwks', `${gateway!.url}/.well-known/jwks.json`],
      gz,
    )
    expect(result.code).toBe(3)
    const report = json(result)
    expect(report).toMatchObject({ tokens: TOKENS, decryptable: TOKENS, unknownKey: 0 })
    expect(report.formats.combined).toBeGreaterThanOrEqual(TOKENS + plaintext.length)
    expect(report.plaintext.listed.map((f) => f.file)).toEqual(['-', '-', '-'])
    expectNoPlaintext(result.stdout)
  })

  it('draws a progress bar on a terminal, and none without one', async () => {
    // script(1) (util-linux, essential in Debian) runs the command on a pseudo-terminal.
    const [command, argv] = scriptArgs('logs-scan', ['--dir', keysDir, haproxyLog])
    const line = [command, ...argv].map((a) => `'${a}'`).join(' ')
    const onTerminal = await new Promise<string>((resolve, reject) => {
      const child = spawn('script', ['-qec', line, '/dev/null'], { env: childEnv({}) })
      let out = ''
      child.stdout.on('data', (d: Buffer) => (out += d.toString()))
      child.on('error', reject)
      child.on('close', () => resolve(out))
    })
    expect(onTerminal).toMatch(/scanning \[.*\] 100% \| (\d+)\/\1 bytes/)
    expect(onTerminal).toMatch(/identifier tokens: 8/)
    const piped = await runScript('logs-scan', ['--dir', keysDir, haproxyLog])
    expect(piped.stderr).toBe('')
  })

  it('says which file it could not read and exits 1', async () => {
    const result = await runScript('logs-scan', ['--dir', keysDir, join(dir, 'missing.log')])
    expect(result.code).toBe(1)
    expect(result.stdout).toContain('missing.log: not read to its end: no such file')
  })

  it('refuses a command line without files with its usage', async () => {
    const result = await runScript('logs-scan', [])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/npm run logs:scan -- --help/)
  })
})
