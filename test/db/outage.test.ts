import { createServer } from 'node:net'
import { beforeAll, describe, expect, it } from 'vitest'
import { encryptMbiJwe } from '@sealed-search/client'
import { createSql } from '../../src/db/sql.js'
import type { KeyRing } from '../../src/keys/ring/keyring.js'
import { errorCode, searchPath, testApp, type Outcome } from '../support/app.js'
import { twoKeyRing } from '../support/keys.js'

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

let ring: KeyRing
beforeAll(async () => {
  ring = (await twoKeyRing()).ring
})

describe('when the database cannot be reached', () => {
  it('answers a search with 503, Retry-After and an OperationOutcome', async () => {
    const sql = createSql({
      url: `postgres://x@127.0.0.1:${await closedPort()}/x`,
      connectTimeoutSeconds: 2,
    })
    const { app, lines } = testApp(ring, sql)
    const key = ring.keys[0]!
    // A hang would fail the test on vitest's timeout: the connect timeout bounds the wait.
    const res = await app.request(searchPath(await encryptMbiJwe('1S00E00AA00', key.publicJwk)))
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBe('5')
    const body = (await res.json()) as Outcome
    expect(body.issue[0]!.code).toBe('transient')
    expect(errorCode(body)).toBe('ERR_DB_UNAVAILABLE')
    expect(JSON.stringify(body)).not.toContain('1S00E00AA00')
    expect(lines.join('\n')).not.toContain('1S00E00AA00')
    const ready = await app.request('/health/ready')
    expect(ready.status).toBe(503)
    await sql.end({ timeout: 1 })
  })
})
