/**
 * A hybrid (X-Wing) token in a real URL: a GET search through haproxy configured with an 8 KiB
 * limit for the request line and headers, with the 4 KiB client-certificate header a load
 * balancer adds and a bearer token beside it, answers 200 with the Patient. The same headers
 * with a URL 7 KiB longer are refused by haproxy, so the 200 is not an accident of a loose
 * limit; and the token in a POST body goes through either way.
 */
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encryptMbiHpke, type GatewayJwk } from '@sealed-search/client'
import { seededMbi } from '../../src/db/seed.js'
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js'
import { startHaproxy, type Balancer } from '../support/haproxy.js'
import { tempDir } from '../support/keys.js'

const ENCRYPTED = 'https://bluebutton.cms.gov/resources/identifier/mbi-encrypted'
// haproxy keeps tune.maxrewrite of tune.bufsize for rewrites: 9,216 - 1,024 = 8 KiB of headers.
const LIMIT = ['  tune.bufsize 9216', '  tune.maxrewrite 1024']
// What a TLS-terminating balancer forwards: the client certificate, PEM-sized (4 KiB).
const CERT_HEADER = randomBytes(3072).toString('base64')

let gateway: GatewayProcess
let haproxy: Balancer
let key: GatewayJwk

beforeAll(async () => {
  gateway = await startGatewayProcess({}, { xwing: true })
  key = gateway.jwks.keys.find((k) => k.kty === 'AKP') as GatewayJwk
  const port = Number(new URL(gateway.url).port)
  haproxy = await startHaproxy(await tempDir('sealed-haproxy-'), [{ name: 'g1', port }], {
    global: LIMIT,
    frontend: [`  http-request set-header X-SSL-Client-Cert ${CERT_HEADER}`],
  })
}, 120_000)

afterAll(async () => {
  await haproxy?.stop()
  await gateway?.stop()
})

const bearer = `Bearer ${randomBytes(768).toString('base64url')}`

describe('a hybrid token through haproxy with an 8 KiB header limit', () => {
  it('answers 200 with the Patient, beside a 4 KiB certificate header and a bearer token', async () => {
    const token = await encryptMbiHpke(seededMbi(7), key)
    expect(token.length).toBeGreaterThan(1500)
    const url = `${haproxy.url}/v2/fhir/Patient?identifier=${ENCRYPTED}%7C${token}`
    process.stdout.write(
      `request line ${url.length - haproxy.url.length + 14} bytes, certificate header ${CERT_HEADER.length}, bearer ${bearer.length}\n`,
    )
    const res = await fetch(url, { headers: { authorization: bearer } })
    expect(res.status).toBe(200)
    const bundle = (await res.json()) as { total: number }
    expect(bundle.total).toBe(1)
  })

  it('is a real limit: the same request with 7 KiB more in the URL is refused by haproxy', async () => {
    const token = await encryptMbiHpke(seededMbi(7), key)
    const pad = '&_pretty=' + 'x'.repeat(7168)
    const res = await fetch(
      `${haproxy.url}/v2/fhir/Patient?identifier=${ENCRYPTED}%7C${token}${pad}`,
      {
        headers: { authorization: bearer },
      },
    )
    expect([400, 414, 431]).toContain(res.status)
    // haproxy's own page, not the gateway's OperationOutcome: the gateway never saw it.
    expect(await res.text()).not.toContain('OperationOutcome')
  })

  it('answers the same Bundle when the token travels in a POST /_search body', async () => {
    const token = await encryptMbiHpke(seededMbi(7), key)
    const res = await fetch(`${haproxy.url}/v2/fhir/Patient/_search`, {
      method: 'POST',
      headers: { authorization: bearer, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ identifier: `${ENCRYPTED}|${token}` }).toString(),
    })
    expect(res.status).toBe(200)
    expect(((await res.json()) as { total: number }).total).toBe(1)
  })
})
