import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { clientIdentity, type ClientOptions } from '../../src/http/client-identity.js'
import type { AppEnv } from '../../src/http/env.js'
import type { HttpError } from '../../src/http/errors.js'
import { OTHER_CLIENT } from '../../src/metrics/index.js'

const A = Array(32).fill('AA').join(':')
const B = Array(32).fill('BB').join(':')
const C = Array(32).fill('CC').join(':')

/** The middleware alone, answering with the client name and the metric label it chose. */
function labels(options: ClientOptions) {
  const app = new Hono<AppEnv>()
  app.onError((error, c) => c.json({}, (error as HttpError).status as 403))
  app.use(clientIdentity(options))
  app.get('/', (c) => c.json({ client: c.get('client'), partner: c.get('partner') }))
  return async (env: unknown) => {
    const res = await app.request('/', undefined, env)
    return { status: res.status, ...((await res.json()) as { client: string; partner: string }) }
  }
}

/** What node's TLS socket shows of a verified client certificate (a stand-in for this unit). */
function tlsClient(fingerprint256: string, cn: string, remoteAddress = '10.1.2.3') {
  const socket = {
    remoteAddress,
    encrypted: true,
    authorized: true,
    getPeerCertificate: () => ({ fingerprint256, subject: { CN: cn } }),
  }
  return { incoming: { socket } }
}

describe('the client label of metrics', () => {
  it('is `other` for every plain connection, whatever its address (IPv4 or IPv6)', async () => {
    const label = labels({})
    const seen = new Set<string>()
    for (let i = 0; i < 150; i++) {
      for (const address of [`10.0.${i >> 8}.${i & 255}`, `2001:db8::${i.toString(16)}`]) {
        const r = await label({ incoming: { socket: { remoteAddress: address } } })
        expect(r.client).toBe(address)
        seen.add(r.partner)
      }
    }
    expect([...seen]).toEqual([OTHER_CLIENT])
  })

  it("is an allowlisted partner's certificate name, and 403 stops everyone else", async () => {
    const label = labels({ allowlist: [A, B], boundClients: [B] })
    expect(await label(tlsClient(A, 'partner-a'))).toEqual({
      status: 200,
      client: `cn=partner-a sha256=${A}`,
      partner: `cn=partner-a sha256=${A}`,
    })
    expect((await label(tlsClient(B, 'partner-b'))).partner).toBe(`cn=partner-b sha256=${B}`)
    expect((await label(tlsClient(C, 'stranger'))).status).toBe(403)
  })

  it('is `other` for a verified certificate that no setting names', async () => {
    const label = labels({ boundClients: [B] })
    const unnamed = await label(tlsClient(C, 'anyone-the-ca-signed'))
    expect(unnamed).toMatchObject({ status: 200, partner: OTHER_CLIENT })
    expect(unnamed.client).toBe(`cn=anyone-the-ca-signed sha256=${C}`)
    expect((await label(tlsClient(B, 'partner-b'))).partner).toBe(`cn=partner-b sha256=${B}`)
  })
})
