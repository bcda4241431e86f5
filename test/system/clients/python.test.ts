/**
 * The Python partner package (clients/python: module and CLI, on Debian's python3-jwcrypto and
 * python3-cryptography) against a gateway process: JWE to both curves, HPKE to both curves,
 * HICN tokens, the documented example, and a tampered token refused. Sender-bound tokens against a
 * second gateway process with mTLS on: bound to partner-a, found over partner-a, refused over b.
 *
 * A missing module fails these tests when CI=true, and skips them with the reason otherwise.
 */
import { spawnSync } from 'node:child_process'
import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { patientSearchUrl } from '@sealed-search/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { needs } from '../../support/needs.js'
import { seededBeneId, seededHicn, seededMbi } from '../../../src/db/seed.js'
import { startGatewayProcess, type GatewayProcess } from '../../support/gateway-process.js'
import { tempDir } from '../../support/keys.js'
import { startMtlsGatewayProcess, type MtlsGateway } from '../../support/mtls.js'
import { senderBindingTests } from '../../support/partner-binding.js'
import { refusal, runWithInput, tamper } from '../../support/partner-cli.js'

/** Debian's interpreter, where apt installs the modules; -E and -s ignore PYTHON* and user sites. */
const PYTHON = '/usr/bin/python3'
const PACKAGE = fileURLToPath(new URL('../../../clients/python/', import.meta.url))
const CI = process.env.CI === 'true'
const probe = spawnSync(PYTHON, ['-E', '-s', '-c', 'import jwcrypto.jwe, cryptography'], {
  encoding: 'utf8',
})
const missing =
  probe.error?.message ?? (probe.status === 0 ? undefined : probe.stderr.trim().split('\n').pop())

let gateway: GatewayProcess
let mtls: MtlsGateway
let dir: string
let jwksFile: string

const cli = (args: string[], input: string) =>
  runWithInput(PYTHON, ['-E', '-s', '-m', 'sealed_search_client', ...args], input, {
    cwd: PACKAGE,
  })

describe.runIf(needs(!missing || CI, `the python client: ${missing}`))(
  `the Python client${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    beforeAll(async () => {
      ;[gateway, mtls] = await Promise.all([
        // An X-Wing key too: the guide's tools must read a JWKS that holds one.
        startGatewayProcess({ HICN_SEARCH_ENABLED: 'true' }, { xwing: true }),
        startMtlsGatewayProcess(),
      ])
      dir = await tempDir('sealed-python-')
      jwksFile = join(dir, 'jwks.json')
      await writeFile(jwksFile, gateway.jwksText)
    }, 120_000)

    afterAll(async () => {
      await gateway?.stop()
      await mtls?.stop()
      if (dir) await rm(dir, { recursive: true, force: true })
    })

    it.each([
      ['jwe', 'P-256', ['--alg', 'ECDH-ES+A256KW', '--enc', 'A128GCM'], 1],
      ['jwe', 'X25519', ['--ttl', '300'], 2],
      ['hpke', 'P-256', [], 3],
      ['hpke', 'X25519', ['--ttl', '300'], 4],
    ])('finds the Patient with a %s token to %s (%j)', async (format, crv, extra, i) => {
      const args = ['search', gateway.url, '--format', format, '--crv', crv, ...extra]
      const result = await cli(args, `${seededMbi(i)}\n`)
      expect(result).toMatchObject({ code: 0, stdout: `Patient/${seededBeneId(i)}` })
    })

    it.each(['jwe', 'hpke'])('makes HICN tokens for the hicn-encrypted search (%s)', async (f) => {
      const result = await cli(['search', gateway.url, '--format', f, '--hicn'], seededHicn(10)!)
      expect(result).toMatchObject({ code: 0, stdout: `Patient/${seededBeneId(10)}` })
    })

    it('runs the example of docs/PARTNERS.md', async () => {
      const result = await runWithInput(
        PYTHON,
        ['-s', join(PACKAGE, 'examples/search.py'), gateway.url],
        seededMbi(12),
        // As the example's usage says: the package on PYTHONPATH (so no -E here).
        { env: { PATH: process.env.PATH, PYTHONPATH: PACKAGE } },
      )
      expect(result).toMatchObject({ code: 0, stdout: seededBeneId(12) })
    })

    it("recomputes the keys' thumbprints as the guide's section 2 does", async () => {
      const result = await runWithInput(
        PYTHON,
        ['-E', '-s', join(PACKAGE, 'examples/thumbprints.py'), jwksFile],
        '',
      )
      expect(result.code).toBe(0)
      const lines = gateway.jwks.keys.map((k) => `${k.crv ?? k.alg} ${k.kid} ${k.kid}`)
      expect(lines.some((l) => l.startsWith('X-Wing '))).toBe(true)
      expect(result.stdout.split('\n')).toEqual(lines)
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

    it('refuses --alg with the hpke format as a usage error (exit 2)', async () => {
      const args = ['encrypt', '--jwks', jwksFile, '--format', 'hpke', '--alg', 'ECDH-ES']
      expect((await cli(args, seededMbi(1))).code).toBe(2)
    })

    it('answers -h and --help with the usage and exit 0', async () => {
      for (const flag of ['-h', '--help']) {
        const result = await cli([flag], '')
        expect(result.code, flag).toBe(0)
        expect(result.stdout).toMatch(/^usage: /)
      }
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
