/**
 * The Java partner package (clients/java: JDK 17 only, no third-party jars) against a gateway
 * process: compiled once with javac (its build.sh), checked against RFC 9180 A.3.1 and RFC 7518
 * Appendix C, then JWE ECDH-ES and HPKE tokens to the gateway's P-256 key, HICN tokens, the
 * documented example, and a tampered token refused. Sender-bound tokens against a second gateway
 * process with mTLS on: bound to partner-a, found over partner-a, refused over partner-b.
 *
 * A missing JDK fails these tests when CI=true, and skips them with the reason otherwise.
 */
import { execFile, spawnSync } from 'node:child_process'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { patientSearchUrl } from '@sealed-search/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { needs } from '../../support/needs.js'
import { seededBeneId, seededHicn, seededMbi } from '../../../src/db/seed.js'
import { startGatewayProcess, type GatewayProcess } from '../../support/gateway-process.js'
import { tempDir } from '../../support/keys.js'
import { startMtlsGatewayProcess, type MtlsGateway } from '../../support/mtls.js'
import { senderBindingTests } from '../../support/partner-binding.js'
import { refusal, runWithInput, tamper } from '../../support/partner-cli.js'

const PACKAGE = fileURLToPath(new URL('../../../clients/java/', import.meta.url))
const VECTORS = fileURLToPath(new URL('../../vectors/', import.meta.url))
const CI = process.env.CI === 'true'
const probe = spawnSync('javac', ['-version'], { encoding: 'utf8' })
const missing = probe.error?.message ?? (probe.status === 0 ? undefined : probe.stderr.trim())

let gateway: GatewayProcess
let mtls: MtlsGateway
let dir: string
let classes: string
let jwksFile: string

const java = (args: string[], input = '') => runWithInput('java', ['-cp', classes, ...args], input)
const cli = (args: string[], input: string) => java(['sealedsearch.client.Main', ...args], input)

describe.runIf(needs(!missing || CI, `the java client: ${missing}`))(
  `the Java client${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    beforeAll(async () => {
      dir = await tempDir('sealed-java-')
      classes = join(dir, 'classes')
      // Compiled once for the file, while the gateway starts.
      const [started, withMtls] = await Promise.all([
        // An X-Wing (AKP) key too: the client must pass over a key type it does not use.
        startGatewayProcess({ HICN_SEARCH_ENABLED: 'true' }, { xwing: true }),
        startMtlsGatewayProcess(),
        promisify(execFile)(join(PACKAGE, 'build.sh'), [classes]),
      ])
      gateway = started
      mtls = withMtls
      jwksFile = join(dir, 'jwks.json')
      await writeFile(jwksFile, gateway.jwksText)
    }, 180_000)

    afterAll(async () => {
      await gateway?.stop()
      await mtls?.stop()
      if (dir) await rm(dir, { recursive: true, force: true })
    })

    it('matches RFC 9180 A.3.1 (DHKEM P-256) and the Concat KDF of RFC 7518 Appendix C', async () => {
      const result = await cli(
        [
          'check-vectors',
          join(VECTORS, 'rfc9180-base-mode.json'),
          join(VECTORS, 'rfc7518-appendix-c.json'),
        ],
        '',
      )
      expect(result.code).toBe(0)
      expect(result.stdout).toContain(
        'RFC 9180 A.3.1: shared_secret, key, base_nonce, 3 ciphertexts',
      )
      expect(result.stdout).toContain('off-curve enc refused')
      expect(result.stdout).toContain('RFC 7518 Appendix C')
    })

    it("runs the README's check-vectors example as written, from clients/java", async () => {
      const readme = await readFile(join(PACKAGE, 'README.md'), 'utf8')
      const line = readme.split('\n').find((l) => l.includes(' check-vectors '))!
      const [command, ...args] = line.trim().split(/\s+/)
      expect(command).toBe('java')
      // The README's build/ is where build.sh compiles by default; this run compiled elsewhere.
      expect(args.slice(0, 2)).toEqual(['-cp', 'build'])
      const result = await runWithInput('java', ['-cp', classes, ...args.slice(2)], '', {
        cwd: PACKAGE,
      })
      expect(result.code).toBe(0)
      expect(result.stdout).toContain('RFC 9180 A.3.1')
      expect(result.stdout).toContain('RFC 7518 Appendix C')
    })

    it.each([
      ['jwe', [], 1],
      ['jwe', ['--ttl', '300'], 2],
      ['hpke', [], 3],
      ['hpke', ['--ttl', '300'], 4],
    ])('finds the Patient with a %s token to the P-256 key (%j)', async (format, extra, i) => {
      const result = await cli(['search', gateway.url, '--format', format, ...extra], seededMbi(i))
      expect(result).toMatchObject({ code: 0, stdout: `Patient/${seededBeneId(i)}` })
    })

    it.each(['jwe', 'hpke'])('makes HICN tokens for the hicn-encrypted search (%s)', async (f) => {
      const result = await cli(['search', gateway.url, '--format', f, '--hicn'], seededHicn(10)!)
      expect(result).toMatchObject({ code: 0, stdout: `Patient/${seededBeneId(10)}` })
    })

    it('runs the example of docs/PARTNERS.md', async () => {
      const result = await java(['SearchExample', gateway.url], `${seededMbi(12)}\n`)
      expect(result).toMatchObject({ code: 0, stdout: seededBeneId(12) })
    })

    it.each(['jwe', 'hpke'])(
      'prints a %s token from a JWKS file that the gateway opens, and refuses tampered',
      async (format) => {
        const made = await cli(['encrypt', '--jwks', jwksFile, '--format', format], seededMbi(20))
        expect(made.code).toBe(0)
        const token = made.stdout
        expect(token.includes('.')).toBe(format === 'jwe')
        const found = (await (await fetch(patientSearchUrl(gateway.url, token))).json()) as {
          entry: { resource: { id: string } }[]
        }
        expect(found.entry.map((e) => e.resource.id)).toEqual([seededBeneId(20)])
        expect(await refusal(patientSearchUrl(gateway.url, tamper(token)))).toEqual({
          status: 400,
          code: 'ERR_TOKEN_DECRYPTION_FAILED',
        })
      },
    )

    it('refuses a malformed MBI before encrypting, without echoing it (exit 1)', async () => {
      const result = await cli(['encrypt', '--jwks', jwksFile], '1S00E00AA0O')
      expect(result.code).toBe(1)
      expect(result.stderr).toContain('not a well-formed MBI')
      expect(result.stderr + result.stdout).not.toContain('1S00E00AA0O')
    })

    it('answers a usage error with exit 2 and --help with exit 0', async () => {
      expect((await cli(['encrypt', '--format', 'zip'], seededMbi(1))).code).toBe(2)
      expect(await cli(['--help'], '')).toMatchObject({ code: 0 })
    })

    senderBindingTests({
      cli,
      started: () => ({ gateway, mtls, jwksFile }),
      searchArgs: (format, options, url) => ['search', url, '--format', format, ...options],
      formats: [
        ['jwe', 'ERR_TOKEN_SENDER_MISMATCH'],
        ['hpke', 'ERR_TOKEN_DECRYPTION_FAILED'],
      ],
    })
  },
)
