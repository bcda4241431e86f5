/**
 * OpenTelemetry traces: a gateway process started with OTEL_EXPORTER_OTLP_ENDPOINT sends its
 * spans over OTLP/HTTP (JSON) to a receiver this test runs on loopback. A search gives an HTTP
 * server span enclosing a `token.open` span (format and kid) and the database reads; no span
 * holds the token, the MBI, or key material.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chooseKey, encryptMbi, patientSearchUrl, type TokenFormat } from '@sealed-search/client'
import { seededMbi } from '../../src/db/seed.js'
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js'

interface OtlpSpan {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  kind: number
  attributes: { key: string; value: Record<string, unknown> }[]
  status?: { code?: number }
}

/** An OTLP/HTTP traces receiver: keeps every body posted to /v1/traces. */
async function otlpReceiver(): Promise<{ url: string; bodies: string[]; server: Server }> {
  const bodies: string[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/traces') {
        bodies.push(Buffer.concat(chunks).toString('utf8'))
      }
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, bodies, server }
}

function spansOf(bodies: string[]): OtlpSpan[] {
  return bodies.flatMap((b) => {
    const doc = JSON.parse(b) as {
      resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[]
    }
    return doc.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans))
  })
}

const attr = (span: OtlpSpan, key: string): unknown => {
  const v = span.attributes.find((a) => a.key === key)?.value
  return v && Object.values(v)[0]
}

const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736'
const CALLER_SPAN = '00f067aa0ba902b7'

describe('traces over OTLP/HTTP', () => {
  let receiver: Awaited<ReturnType<typeof otlpReceiver>>
  let gateway: GatewayProcess | undefined
  const tokens: Record<TokenFormat, string> = { jwe: '', hpke: '' }
  let kids: Record<TokenFormat, string>
  let spans: OtlpSpan[]
  const mbi = seededMbi(3)

  beforeAll(async () => {
    receiver = await otlpReceiver()
    gateway = await startGatewayProcess({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url })
    const jwe = chooseKey(gateway.jwks as never, 'P-256')
    const hpke = chooseKey(gateway.jwks as never, 'X25519', { format: 'hpke' })
    kids = { jwe: jwe.kid!, hpke: hpke.kid! }
    tokens.jwe = await encryptMbi(mbi, jwe)
    tokens.hpke = await encryptMbi(mbi, hpke, { format: 'hpke' })
    for (const format of ['jwe', 'hpke'] as const) {
      const res = await fetch(patientSearchUrl(gateway.url, tokens[format]))
      expect(res.status).toBe(200)
      expect(((await res.json()) as { total: number }).total).toBe(1)
    }
    // A token that does not open: its span carries the error code, nothing of the token.
    const bad = await fetch(patientSearchUrl(gateway.url, tokens.jwe.slice(0, -4) + 'AAAA'))
    expect(bad.status).toBe(400)
    // A caller's W3C trace context: the gateway's span joins the caller's trace.
    const meta = await fetch(`${gateway.url}/v2/fhir/metadata`, {
      headers: { traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01` },
    })
    expect(meta.status).toBe(200)
    // Stopping the gateway sends the spans still buffered.
    await gateway.stop()
    gateway = undefined
    spans = spansOf(receiver.bodies)
  }, 120_000)

  afterAll(async () => {
    await gateway?.stop()
    await new Promise((resolve) => receiver.server.close(resolve))
  })

  it('sends an HTTP server span per search, named by its route', () => {
    const http = spans.filter((s) => s.name === 'GET /v2/fhir/Patient')
    expect(http).toHaveLength(3)
    for (const s of http) {
      expect(s.kind).toBe(2) // SPAN_KIND_SERVER
      expect(attr(s, 'http.route')).toBe('/v2/fhir/Patient')
      expect(attr(s, 'url.full')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v2\/fhir\/Patient$/)
    }
    expect(http.map((s) => attr(s, 'http.response.status_code')).sort()).toEqual([200, 200, 400])
  })

  it('nests token.open (format and kid) and the database reads in the HTTP span', () => {
    const http = spans.filter((s) => s.name === 'GET /v2/fhir/Patient')
    const byId = new Map(spans.map((s) => [s.spanId, s]))
    const opened = spans.filter((s) => s.name === 'token.open')
    expect(opened).toHaveLength(3)
    for (const s of opened) {
      const parent = byId.get(s.parentSpanId!)
      expect(parent && http.includes(parent)).toBe(true)
      expect(s.traceId).toBe(parent!.traceId)
    }
    const seen = opened
      .filter((s) => attr(s, 'sealed_search.token.kid'))
      .map((s) => [attr(s, 'sealed_search.token.format'), attr(s, 'sealed_search.token.kid')])
    expect(seen).toEqual(
      expect.arrayContaining([
        ['jwe', kids.jwe],
        ['hpke', kids.hpke],
      ]),
    )
    const failed = opened.find((s) => !attr(s, 'sealed_search.token.kid'))!
    expect(attr(failed, 'error.type')).toMatch(/^ERR_TOKEN_/)
    expect(failed.status?.code).toBe(2) // STATUS_CODE_ERROR
    const reads = spans.filter((s) => s.name === 'db.read')
    expect(reads.length).toBeGreaterThanOrEqual(2)
    for (const s of reads) {
      expect(http).toContain(byId.get(s.parentSpanId!))
      expect(attr(s, 'db.system.name')).toBe('postgresql')
    }
  })

  it("joins a caller's trace given in a traceparent header", () => {
    const meta = spans.find((s) => s.name === 'GET /v2/fhir/metadata')!
    expect(meta.traceId).toBe(CALLER_TRACE)
    expect(meta.parentSpanId).toBe(CALLER_SPAN)
  })

  it('holds no token, no identifier and no key material', () => {
    const all = receiver.bodies.join('\n')
    expect(all.length).toBeGreaterThan(0)
    expect(all).not.toContain(mbi)
    expect(all.toLowerCase()).not.toContain(mbi.toLowerCase())
    for (const token of Object.values(tokens)) {
      for (const part of token.split('.').filter((p) => p.length >= 16)) {
        expect(all).not.toContain(part.slice(0, 16))
      }
    }
    expect(all).not.toMatch(/identifier=|"d":|PRIVATE KEY|exception\.(message|stacktrace)/)
    // The failed search's exception event keeps its code only.
    expect(all).toContain(
      '"key":"exception.type","value":{"stringValue":"ERR_TOKEN_DECRYPTION_FAILED"}',
    )
  })
})
