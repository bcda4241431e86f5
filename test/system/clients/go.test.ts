/**
 * The Go partner package (clients/go: Debian's golang-go and go-jose v2 from
 * golang-gopkg-square-go-jose.v2-dev, GOPATH mode, no network) against a gateway process: built
 * once with its build.sh, then JWE ECDH-ES tokens to the gateway's P-256 key (read from a JWKS
 * that also holds an X25519 key, which go-jose v2 cannot parse), HICN tokens, the documented
 * example, and a tampered token refused. Sender-bound tokens against a second gateway process
 * with mTLS on: bound to partner-a, found over partner-a, refused over partner-b.
 *
 * A missing Go toolchain or go-jose fails these tests when CI=true, and skips them otherwise.
 */
import { execFile, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { rm, writeFile } from 'node:fs/promises'
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

const PACKAGE = fileURLToPath(new URL('../../../clients/go/', import.meta.url))
const GO_JOSE = '/usr/share/gocode/src/gopkg.in/square/go-jose.v2'
const CI = process.env.CI === 'true'
const probe = spawnSync('go', ['version'], { encoding: 'utf8' })
const missing =
  probe.error?.message ??
  (probe.status !== 0
    ? probe.stderr.trim()
    : existsSync(GO_JOSE)
      ? undefined
      : `${GO_JOSE} is missing (golang-gopkg-square-go-jose.v2-dev)`)

let gateway: GatewayProcess
let mtls: MtlsGateway
let dir: string
let bin: string
let jwksFile: string

const cli = (args: string[], input: string) => runWithInput(join(bin, 'sealed-search'), args, input)

describe.runIf(needs(!missing || CI, `the go client: ${missing}`))(
  `the Go client${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    beforeAll(async () => {
      dir = await tempDir('sealed-go-')
      bin = join(dir, 'bin')
      // Built once for the file, while the gateway starts.
      const [started, withMtls] = await Promise.all([
        // An X-Wing (AKP) key too: go-jose v2 cannot read it, and the client must skip it.
        startGatewayProcess({ HICN_SEARCH_ENABLED: 'true' }, { xwing: true }),
        startMtlsGatewayProcess(),
        promisify(execFile)(join(PACKAGE, 'build.sh'), [dir]),
      ])
      gateway = started
      mtls = withMtls
      jwksFile = join(dir, 'jwks.json')
      await writeFile(jwksFile, gateway.jwksText)
    }, 240_000)

    afterAll(async () => {
      await gateway?.stop()
      await mtls?.stop()
      if (dir) await rm(dir, { recursive: true, force: true })
    })

    it('reads the P-256 key from a JWKS that also publishes an X25519 and an X-Wing key', () => {
      expect(gateway.jwks.keys.map((k) => k.crv ?? k.alg).sort()).toEqual([
        'P-256',
        'X-Wing',
        'X25519',
      ])
    })

    it.each([
      [[], 1],
      [['--ttl', '300'], 2],
    ])('finds the Patient with a JWE token (%j)', async (extra, i) => {
      const result = await cli(['search', ...extra, gateway.url], seededMbi(i))
      expect(result).toMatchObject({ code: 0, stdout: `Patient/${seededBeneId(i)}` })
    })

    it('makes HICN tokens for the hicn-encrypted search', async () => {
      const result = await cli(['search', '--hicn', gateway.url], seededHicn(10)!)
      expect(result).toMatchObject({ code: 0, stdout: `Patient/${seededBeneId(10)}` })
    })

    it('runs the example of docs/PARTNERS.md', async () => {
      const result = await runWithInput(join(bin, 'search-example'), [gateway.url], seededMbi(12))
      expect(result).toMatchObject({ code: 0, stdout: seededBeneId(12) })
    })

    it('prints a token from a JWKS file that the gateway opens, and refuses it tampered', async () => {
      const made = await cli(['encrypt', '--jwks', jwksFile], `${seededMbi(20)}\n`)
      expect(made.code).toBe(0)
      const token = made.stdout
      const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as {
        kid: string
      }
      expect(header.kid).toBe(gateway.jwks.keys.find((k) => k.crv === 'P-256')!.kid)
      const found = (await (await fetch(patientSearchUrl(gateway.url, token))).json()) as {
        entry: { resource: { id: string } }[]
      }
      expect(found.entry.map((e) => e.resource.id)).toEqual([seededBeneId(20)])
      expect(await refusal(patientSearchUrl(gateway.url, tamper(token)))).toEqual({
        status: 400,
        code: 'ERR_TOKEN_DECRYPTION_FAILED',
      })
    })

    it('refuses a malformed MBI before encrypting, without echoing it (exit 1)', async () => {
      const result = await cli(['encrypt', '--jwks', jwksFile], '1S00E00AA0O')
      expect(result.code).toBe(1)
      expect(result.stderr).toContain('not a well-formed MBI')
      expect(result.stderr + result.stdout).not.toContain('1S00E00AA0O')
    })

    it('answers a usage error with exit 2, and -h or --help with the usage and exit 0', async () => {
      expect((await cli(['decrypt'], seededMbi(1))).code).toBe(2)
      expect((await cli(['encrypt'], seededMbi(1))).code).toBe(2)
      for (const args of [['-h'], ['--help'], ['encrypt', '-h'], ['search', '--help']]) {
        const result = await cli(args, '')
        expect(result.code, args.join(' ')).toBe(0)
        expect(result.stdout).toMatch(/^usage: sealed-search encrypt/)
      }
    })

    // Go's flag package stops at the first argument that is not an option: the URL goes last.
    senderBindingTests({
      cli,
      started: () => ({ gateway, mtls, jwksFile }),
      searchArgs: (_format, options, url) => ['search', ...options, url],
      formats: [['jwe', 'ERR_TOKEN_SENDER_MISMATCH']],
    })
  },
)
