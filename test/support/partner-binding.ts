/**
 * The sender-binding tests every partner command line passes (Python, Java, Go): a token bound
 * to partner-a is found over partner-a's certificate and refused over partner-b's, `encrypt
 * --bind-cert` puts the certificate's SHA-256 in `x5t#S256`, and a file that is not a
 * certificate is refused before anything is encrypted.
 */
import { patientSearchUrl } from '@sealed-search/client'
import { describe, expect, it } from 'vitest'
import { seededBeneId, seededMbi } from '../../src/db/seed.js'
import type { GatewayProcess } from './gateway-process.js'
import { codeOf, get } from './https.js'
import { mtlsOptions, x5tS256, type MtlsGateway } from './mtls.js'
import type { CliResult } from './partner-cli.js'

export interface PartnerBinding {
  cli: (args: string[], input: string) => Promise<CliResult>
  /** What the file's beforeAll started: read when the tests run. */
  started: () => { gateway: GatewayProcess; mtls: MtlsGateway; jwksFile: string }
  /** The `search` arguments of this command line for a token format and the mTLS options. */
  searchArgs: (format: string, mtlsArgs: string[], url: string) => string[]
  /** Each token format the client binds, with the refusal over another certificate. */
  formats: [format: string, refusal: string][]
}

export function senderBindingTests({ cli, started, searchArgs, formats }: PartnerBinding): void {
  describe('sender-bound tokens over mTLS', () => {
    /** The search command over `over`'s client certificate, the token bound to partner-a. */
    const boundSearch = (format: string, over: string, i: number) => {
      const { mtls } = started()
      const options = mtlsOptions(mtls.pki, over, 'partner-a')
      return cli(searchArgs(format, options, mtls.gateway.url), seededMbi(i))
    }

    it.each(formats)(
      'binds a %s token to partner-a: found over partner-a, refused over partner-b (%s)',
      async (format, code) => {
        const overA = await boundSearch(format, 'partner-a', 30)
        expect(overA).toMatchObject({ code: 0, stdout: `Patient/${seededBeneId(30)}` })
        const overB = await boundSearch(format, 'partner-b', 30)
        expect(overB).toMatchObject({ code: 1, stdout: '', stderr: code })
      },
    )

    it('binds with encrypt --bind-cert to a DER file: x5t#S256 is the certificate SHA-256', async () => {
      const { gateway, mtls, jwksFile } = started()
      const a = mtls.pki.partners['partner-a']!
      const made = await cli(
        ['encrypt', '--jwks', jwksFile, '--bind-cert', a.derFile],
        seededMbi(31),
      )
      expect(made.code).toBe(0)
      const header = JSON.parse(Buffer.from(made.stdout.split('.')[0]!, 'base64url').toString())
      expect(header['x5t#S256']).toBe(x5tS256(a))
      // Sealed to the plain gateway's key: that gateway has no mTLS, so it refuses the token.
      const plain = await get(patientSearchUrl(gateway.url, made.stdout))
      expect([plain.status, codeOf(plain)]).toEqual([403, 'ERR_TOKEN_SENDER_MISMATCH'])
    })

    it('refuses a file that is not a certificate before encrypting (exit 1)', async () => {
      const { jwksFile } = started()
      const result = await cli(
        ['encrypt', '--jwks', jwksFile, '--bind-cert', jwksFile],
        seededMbi(1),
      )
      expect(result).toMatchObject({ code: 1, stdout: '' })
      expect(result.stderr).toContain('not a PEM or DER X.509 certificate')
    })
  })
}
