/**
 * With mTLS on, the start-up banner's curl commands work as printed once client.crt and
 * client.key are a partner's own: they trust the server's certificate file and present the
 * client certificate. Run with real curl against a gateway process.
 */
import { spawnSync } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startMtlsGatewayProcess, type MtlsGateway } from '../support/mtls.js'

const CI = process.env.CI === 'true'
const probe = spawnSync('curl', ['--version'], { encoding: 'utf8' })
const missing = probe.error ? 'curl is missing' : undefined

describe.skipIf(Boolean(missing) && !CI)(
  `the banner with mTLS${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    let mtls: MtlsGateway
    let curls: string[]
    beforeAll(async () => {
      mtls = await startMtlsGatewayProcess()
      const output = mtls.gateway.running.output()
      curls = output
        .split('\n')
        .filter((l) => /^\s+(?:public keys:|capability:)?\s*curl /.test(l))
        .map((l) => l.replace(/^\s+(?:public keys:|capability:)?\s*/, ''))
    }, 120_000)
    afterAll(async () => {
      await mtls?.stop()
    })

    it('prints a curl with --cacert, --cert and --key for each link and the example search', () => {
      expect(curls).toHaveLength(3)
      for (const c of curls) {
        expect(c).toContain(`--cacert '${mtls.pki.serverCertFile}'`)
        expect(c).toContain('--cert client.crt --key client.key')
      }
      expect(mtls.gateway.running.output()).toContain('replace client.crt and client.key')
    })

    it('runs each one as printed, with a partner certificate in place of client.crt', () => {
      const partner = mtls.pki.partners['partner-a']!
      const bodies = curls.map((c) => {
        const line = c
          .replace('client.crt', partner.certFile)
          .replace('client.key', partner.keyFile)
        const r = spawnSync('sh', ['-c', `${line} --fail-with-body`], { encoding: 'utf8' })
        expect(r.status, r.stderr).toBe(0)
        return JSON.parse(r.stdout) as { resourceType?: string; keys?: unknown[]; total?: number }
      })
      expect(bodies[0]!.keys?.length).toBeGreaterThan(0)
      expect(bodies[1]!.resourceType).toBe('CapabilityStatement')
      expect(bodies[2]).toMatchObject({ resourceType: 'Bundle', total: 1 })
    })
  },
)
