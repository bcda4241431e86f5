/**
 * Database error classes: a server that refuses, rejects the login, lacks the database, has no
 * connection left, shuts down or times out is 503 with Retry-After (readiness too, never 500);
 * a request body the client fails to deliver is the client's 400 and never counted as an outage.
 */
import { describe, expect, it } from 'vitest'
import { needs, REAL_SERVER } from '../support/needs.js'
import { encryptMbiJwe } from '@sealed-search/client'
import { DatabaseError } from '../../src/db/errors.js'
import { createSql } from '../../src/db/sql.js'
import { createApp } from '../../src/http/app.js'
import { classify } from '../../src/http/outcome-errors.js'
import { lookup } from '../../src/search/index.js'
import { staticKeyRing } from '../../src/keys/ring/keyring.js'
import { createMetrics } from '../../src/metrics/index.js'
import { BASE, capturingLogger, errorCode, searchPath, type Outcome } from '../support/app.js'
import { twoKeyRing } from '../support/keys.js'

/** A query that fails as postgres.js reports a server's refusal: a SQLSTATE in `code`. */
const postgresError = (code: string) =>
  Promise.reject(Object.assign(new Error('server said no'), { code }))

/** What a search's database call throws, through the search layer's bound on it. */
async function refusal(work: Promise<unknown>, ms?: number): Promise<unknown> {
  try {
    await lookup(work, ms)
  } catch (error) {
    return error
  }
  throw new Error('no error')
}

describe('the class of a database error', () => {
  it.each([
    ['ECONNREFUSED', 'connection refused'],
    ['CONNECT_TIMEOUT', 'connect timeout'],
    ['28P01', 'password authentication failed'],
    ['28000', 'no pg_hba.conf entry for the role'],
    ['3D000', 'the database does not exist'],
    ['53300', 'too many connections'],
    ['57P01', 'administrator shutdown'],
    ['57014', 'statement timeout'],
    ['08006', 'connection failure'],
  ])('answers %s (%s) with 503 and Retry-After', async (code) => {
    const { error, cause } = classify(await refusal(postgresError(code)))
    expect(error).toMatchObject({ status: 503, code: 'ERR_DB_UNAVAILABLE', issueType: 'transient' })
    expect(error.headers['Retry-After']).toBe('5')
    expect(cause).toBe('ERR_DB_UNAVAILABLE')
  })

  it('answers a query the gateway gave up on with 503', async () => {
    const never = new Promise<never>(() => {})
    expect(classify(await refusal(never, 20)).error.status).toBe(503)
    const given = new DatabaseError('ERR_DB_UNAVAILABLE', 'no answer within 10 ms')
    expect(classify(await refusal(Promise.reject(given))).error.status).toBe(503)
  })

  it('keeps a programming error (an undefined column) a 500', async () => {
    expect(classify(await refusal(postgresError('42703'))).error.status).toBe(500)
  })
})

describe('a request body the client fails to deliver', () => {
  it('is the client’s 400 ERR_BODY_UNREADABLE, not a database outage', async () => {
    const { ring } = await twoKeyRing()
    // A database that is never reached: the body fails before any query.
    const sql = createSql({ url: 'postgres://x@127.0.0.1:1/x', connectTimeoutSeconds: 1 })
    const { logger, lines } = capturingLogger()
    const metrics = createMetrics({ defaultMetrics: false })
    const app = createApp({ keys: staticKeyRing(ring), sql, logger, publicBaseUrl: BASE, metrics })
    for (const code of ['ECONNRESET', 'EPIPE', 'ERR_STREAM_PREMATURE_CLOSE']) {
      const body = new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('identifier=http'))
          controller.error(Object.assign(new Error('aborted'), { code }))
        },
      })
      const res = await app.request('/v2/fhir/Patient/_search', {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body,
        duplex: 'half',
      } as RequestInit)
      expect(res.status).toBe(400)
      expect(errorCode((await res.json()) as Outcome)).toBe('ERR_BODY_UNREADABLE')
    }
    const text = await metrics.registry.metrics()
    expect(text).not.toContain('ERR_DB_UNAVAILABLE')
    expect(text).toMatch(/outcome="ERR_BODY_UNREADABLE"\} 3/)
    expect(lines.join('\n')).not.toContain('ERR_DB_UNAVAILABLE')
    await sql.end({ timeout: 1 })
  })
})

// A real server refuses logins and names missing databases; the embedded one does neither.
const url = process.env.DATABASE_URL
describe.runIf(needs(url, `login and missing-database errors ${REAL_SERVER}`))(
  'a real PostgreSQL server that refuses the gateway (needs DATABASE_URL)',
  () => {
    it.each([
      ['a wrong password (28P01)', (u: URL) => (u.password = 'not-the-password')],
      ['a database that does not exist (3D000)', (u: URL) => (u.pathname = '/no_such_database')],
      ['a role that does not exist (28P01 or 28000)', (u: URL) => (u.username = 'no_such_role')],
    ])('answers searches and readiness with 503 and Retry-After for %s', async (_what, edit) => {
      const bad = new URL(url!)
      edit(bad)
      const { ring } = await twoKeyRing()
      const sql = createSql({ url: bad.toString(), connectTimeoutSeconds: 5 })
      const { logger } = capturingLogger()
      const app = createApp({ keys: staticKeyRing(ring), sql, logger, publicBaseUrl: BASE })
      const token = await encryptMbiJwe('1S00E00AA00', ring.keys[0]!.publicJwk)
      for (const path of [searchPath(token), '/health/ready']) {
        const res = await app.request(path)
        expect([path, res.status]).toEqual([path, 503])
        expect(res.headers.get('retry-after')).toBe('5')
        expect(errorCode((await res.json()) as Outcome)).toBe('ERR_DB_UNAVAILABLE')
      }
      await sql.end({ timeout: 1 })
    })
  },
)
