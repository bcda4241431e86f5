/**
 * The post-quantum policy per partner, over real mTLS: a partner marked `=pq` in
 * TLS_CLIENT_ALLOWLIST gets ERR_TOKEN_PQ_REQUIRED for a classic token and its Patient for a
 * hybrid one, bound to its certificate (version 3) or not; an unmarked partner is served either
 * way. The gateway starts as an operator starts it, with the development ring (P-256, X25519 and
 * X-Wing keys made at start-up).
 */
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  chooseKey,
  encryptMbiHpke,
  encryptMbiJwe,
  patientSearchUrl,
  type Jwks,
} from '@sealed-search/client'
import { loadConfig } from '../../src/config/index.js'
import { seed, seededBeneId, seededMbi } from '../../src/db/seed.js'
import { createSql } from '../../src/db/sql.js'
import { startGateway, type RunningGateway } from '../../src/server.js'
import { capturingLogger } from '../support/app.js'
import { codeOf, get, type Tls } from '../support/https.js'
import { tempDir } from '../support/keys.js'
import { makeCertificates, type Pki } from '../support/mtls.js'

let gateway: RunningGateway
let pki: Pki
let jwks: Jwks
const schema = `pq_${randomBytes(5).toString('hex')}`
const url = process.env.DATABASE_URL

beforeAll(async () => {
  const dir = await tempDir()
  pki = await makeCertificates(dir, ['partner-pq', 'partner-classic'])
  const config = loadConfig({
    PORT: '0',
    KEYS_DIR: join(dir, 'keys'),
    DATA_DIR: join(dir, 'data'),
    SEED_COUNT: '10',
    AUDIT_LOG: join(dir, 'audit.log'),
    TLS_CERT_FILE: pki.serverCertFile,
    TLS_KEY_FILE: pki.serverKeyFile,
    TLS_CLIENT_CA_FILE: pki.caFile,
    TLS_CLIENT_ALLOWLIST: `${pki.partners['partner-pq']!.fingerprint256}=pq, ${pki.partners['partner-classic']!.fingerprint256}`,
    ...(url ? { DATABASE_URL: url, DATABASE_SCHEMA: schema } : {}),
  })
  gateway = await startGateway(config, capturingLogger().logger)
  if (url) await seed(gateway.db.sql, { count: 10 })
  const tls = as('partner-classic')
  jwks = JSON.parse((await get(`${gateway.url}/.well-known/jwks.json`, tls)).body) as Jwks
}, 120_000)

afterAll(async () => {
  await gateway?.close()
  if (url) {
    const sql = createSql({ url, max: 1 })
    await sql`drop schema if exists ${sql(schema)} cascade`
    await sql.end()
  }
})

function as(name: string): Tls {
  const partner = pki.partners[name]!
  return { ca: pki.ca, cert: partner.cert, key: partner.key }
}

describe('a partner marked =pq', () => {
  it('publishes the development X-Wing keys (current and next) after P-256 and X25519', () => {
    const published = jwks.keys.map((k) => k.crv ?? k.alg)
    expect(published).toEqual(['P-256', 'X25519', 'P-256', 'X25519', 'X-Wing', 'X-Wing'])
  })

  it('gets ERR_TOKEN_PQ_REQUIRED for a classic token, and its Patient for a hybrid one', async () => {
    const classic = await encryptMbiJwe(seededMbi(2), chooseKey(jwks, 'P-256'))
    const refused = await get(patientSearchUrl(gateway.url, classic), as('partner-pq'))
    expect(refused.status).toBe(400)
    expect(codeOf(refused)).toBe('ERR_TOKEN_PQ_REQUIRED')
    const key = chooseKey(jwks, undefined, { format: 'hpke', pq: true })
    const hybrid = await encryptMbiHpke(seededMbi(2), key)
    const served = await get(patientSearchUrl(gateway.url, hybrid), as('partner-pq'))
    expect(served.status).toBe(200)
    expect(JSON.parse(served.body).entry[0].resource.id).toBe(seededBeneId(2))
  })

  it('opens a hybrid token bound to its certificate (version 3) over that certificate only', async () => {
    const key = chooseKey(jwks, 'X-Wing')
    const bindCertificate = pki.partners['partner-pq']!.cert.toString('utf8')
    const token = await encryptMbiHpke(seededMbi(3), key, { bindCertificate })
    const own = await get(patientSearchUrl(gateway.url, token), as('partner-pq'))
    expect(own.status).toBe(200)
    const other = await get(patientSearchUrl(gateway.url, token), as('partner-classic'))
    expect(other.status).toBe(400)
    expect(codeOf(other)).toBe('ERR_TOKEN_DECRYPTION_FAILED')
  })
})

describe('a partner not marked', () => {
  it('is served classic and hybrid tokens alike', async () => {
    for (const key of [chooseKey(jwks, 'X25519', { format: 'hpke' }), chooseKey(jwks, 'X-Wing')]) {
      const token = await encryptMbiHpke(seededMbi(4), key)
      const answer = await get(patientSearchUrl(gateway.url, token), as('partner-classic'))
      expect(answer.status).toBe(200)
    }
  })
})
