import { Writable } from 'node:stream'
import { expect } from 'vitest'
import type { Sql } from '../../src/db/sql.js'
import { createApp } from '../../src/http/app.js'
import type { SearchFeatures } from '../../src/search/index.js'
import { staticKeyRing, type KeyRing } from '../../src/keys/ring/keyring.js'
import { createAudit } from '../../src/log/audit.js'
import { createMetrics } from '../../src/metrics/index.js'
import { BASE, capturingLogger } from './app.js'

export const FORM = 'application/x-www-form-urlencoded'
export const SEARCH = '/v2/fhir/Patient/_search'
export const US_MBI = 'http://hl7.org/fhir/sid/us-mbi'
export const MBI_HASH = 'https://bluebutton.cms.gov/resources/identifier/mbi-hash'
export const HICN_ENCRYPTED = 'https://bluebutton.cms.gov/resources/identifier/hicn-encrypted'

function lineCollector(lines: string[]): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean))
      done()
    },
  })
}

/**
 * The gateway with the migration features given, keeping every access-log line (`lines`), every
 * audit record (`audit`) and every response body and header set (`responses`), so a test can
 * check that none of them holds a plaintext identifier.
 */
export function parityApp(ring: KeyRing, sql: Sql, features: SearchFeatures = {}) {
  const { logger, lines } = capturingLogger()
  const audit: string[] = []
  const metrics = createMetrics({ defaultMetrics: false })
  const app = createApp({
    keys: staticKeyRing(ring),
    sql,
    logger,
    publicBaseUrl: BASE,
    metrics,
    audit: createAudit(lineCollector(audit)),
    features,
  })
  const responses: { status: number; headers: string; body: string }[] = []
  /** app.request, keeping what was answered; `env` stands in for node's socket (the client). */
  async function request(path: string, init?: RequestInit, env?: unknown) {
    const res = await app.request(path, init, env)
    const text = await res.text()
    const headers: string[] = []
    res.headers.forEach((value, name) => headers.push(`${name}: ${value}`))
    responses.push({ status: res.status, headers: headers.join('\n'), body: text })
    return { res, status: res.status, text, json: () => JSON.parse(text) as FhirJson }
  }
  return { app, request, lines, audit, responses, metrics }
}

/** A POST of `params` as an application/x-www-form-urlencoded body. */
export function post(params: Record<string, string> | string, contentType = FORM): RequestInit {
  const body = typeof params === 'string' ? params : new URLSearchParams(params).toString()
  return { method: 'POST', headers: { 'Content-Type': contentType }, body }
}

/** What the tests read of a Bundle, Patient or OperationOutcome. */
export interface FhirJson {
  resourceType: string
  id?: string
  type?: string
  total?: number
  link?: { relation: string; url: string }[]
  entry?: { fullUrl: string; resource: { resourceType: string; id: string } }[]
  issue?: { code: string; diagnostics: string; details?: { coding: { code: string }[] } }[]
  identifier?: { system: string; value: string }[]
}

export function errorCodeOf(json: FhirJson): string | undefined {
  return json.issue?.[0]?.details?.coding[0]?.code
}

/** A node-like env whose socket has this remote address (what the client identity reads). */
export function fromAddress(remoteAddress: string) {
  return { incoming: { socket: { remoteAddress } } }
}

/** Asserts that no text holds any secret: as given, in lower case, or percent-encoded. */
export function expectNoneOf(texts: readonly string[], secrets: readonly string[]): void {
  const forms = secrets.flatMap((s) => [s, s.toLowerCase(), encodeURIComponent(s)])
  for (const text of texts) {
    for (const form of forms)
      expect(text, `a line holds a plaintext identifier`).not.toContain(form)
  }
}
