/**
 * The access log and the audit trail gather lines and write them together (LOG_FLUSH_MS). A
 * gateway process stopped cleanly (SIGTERM) right after answering, long before its flush
 * interval, has written an access line and an audit record for every search it answered.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chooseKey, encryptMbi, patientSearchUrl } from '@sealed-search/client'
import { seededMbi } from '../../src/db/seed.js'
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js'
import { tempDir } from '../support/temp.js'

const SEARCHES = 40

let gateway: GatewayProcess | undefined
let auditFile: string
let exitCode: number | null
let stdout: string

beforeAll(async () => {
  auditFile = join(await tempDir('sealed-flush-'), 'audit.log')
  // The longest hold: the last second of lines is on disk only if the stop writes it.
  gateway = await startGatewayProcess({
    LOG_LEVEL: 'info',
    AUDIT_LOG: auditFile,
    LOG_FLUSH_MS: '1000',
  })
  const key = chooseKey(gateway.jwks as Parameters<typeof chooseKey>[0], 'X25519')
  for (let i = 0; i < SEARCHES; i++) {
    const token = await encryptMbi(seededMbi(i), key, { format: i % 2 ? 'hpke' : 'jwe' })
    const res = await fetch(patientSearchUrl(gateway.url, token))
    expect(res.status).toBe(200)
    await res.arrayBuffer()
  }
  exitCode = await gateway.running.stop()
  stdout = gateway.running.output()
}, 60_000)

afterAll(async () => {
  await gateway?.stop()
})

describe('a gateway stopped with SIGTERM', () => {
  it('exits 0 with an audit record on disk for every search it answered', async () => {
    expect(exitCode).toBe(0)
    const records = (await readFile(auditFile, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; results: number })
    expect(records).toHaveLength(SEARCHES)
    expect(records.every((r) => r.event === 'search' && r.results === 1)).toBe(true)
  })

  it('has written an access line for every search, and the shutdown line after them', () => {
    const lines = stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg: string; path?: string; status?: number })
    const searches = lines.filter((l) => l.msg === 'request' && l.path === '/v2/fhir/Patient')
    expect(searches).toHaveLength(SEARCHES)
    expect(searches.every((l) => l.status === 200)).toBe(true)
    expect(lines.at(-1)?.msg).toBe('shutting down')
  })
})
