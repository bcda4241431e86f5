import { execFileSync } from 'node:child_process'
import { randomBytes, X509Certificate } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { request } from 'node:https'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chooseKey, encryptMbiJwe, patientSearchUrl } from '@sealed-search/client'
import { loadConfig } from '../../src/config/index.js'
import { seed, seededBeneId, seededMbi } from '../../src/db/seed.js'
import { createSql } from '../../src/db/sql.js'
import { startGateway, type RunningGateway } from '../../src/server.js'
import { capturingLogger } from '../support/app.js'
import { tempDir } from '../support/keys.js'

/** Certificates made for the test with openssl: a CA, the server, and three clients. */
async function makeCertificates(dir: string) {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' })
  const key = (name: string) =>
    ssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`)
  const selfSigned = (name: string, cn: string) => {
    key(name)
    ssl(
      'req',
      '-x509',
      '-new',
      '-key',
      `${name}.key`,
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-subj',
      `/CN=${cn}`,
    )
  }
  const signed = (name: string, cn: string, ca: string, ext?: string) => {
    key(name)
    ssl('req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`)
    const extArgs = ext ? ['-extfile', ext] : []
    ssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${ca}.crt`,
      '-CAkey',
      `${ca}.key`,
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      ...extArgs,
    )
  }
  selfSigned('ca', 'sealed-search test CA')
  selfSigned('other-ca', 'somebody else CA')
  await writeFile(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n')
  signed('server', 'localhost', 'ca', 'server.ext')
  signed('partner-a', 'partner-a', 'ca')
  signed('partner-b', 'partner-b', 'ca')
  signed('intruder', 'intruder', 'other-ca')
  const read = (f: string) => readFile(join(dir, f))
  return {
    ca: await read('ca.crt'),
    client: async (name: string) => ({
      cert: await read(`${name}.crt`),
      key: await read(`${name}.key`),
    }),
    fingerprint: async (name: string) =>
      new X509Certificate(await read(`${name}.crt`)).fingerprint256,
  }
}

interface Answer {
  status: number
  body: string
}

function get(url: string, tls: { ca: Buffer; cert?: Buffer; key?: Buffer }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ...tls, agent: false }, (res) => {
      let body = ''
      res.on('data', (d: Buffer) => (body += d.toString()))
      res.on('end', () => resolve({ status: res.statusCode!, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('mTLS (HTTPS with required client certificates)', () => {
  let gateway: RunningGateway
  let certs: Awaited<ReturnType<typeof makeCertificates>>
  let lines: string[]
  let auditFile: string
  const schema = `mtls_${randomBytes(5).toString('hex')}`
  const url = process.env.DATABASE_URL

  beforeAll(async () => {
    const dir = await tempDir()
    certs = await makeCertificates(dir)
    auditFile = join(dir, 'audit.log')
    const captured = capturingLogger()
    lines = captured.lines
    const config = loadConfig({
      PORT: '0',
      KEYS_DIR: join(dir, 'keys'),
      DATA_DIR: join(dir, 'data'),
      SEED_COUNT: '10',
      AUDIT_LOG: auditFile,
      TLS_CERT_FILE: join(dir, 'server.crt'),
      TLS_KEY_FILE: join(dir, 'server.key'),
      TLS_CLIENT_CA_FILE: join(dir, 'ca.crt'),
      TLS_CLIENT_ALLOWLIST: await certs.fingerprint('partner-a'),
      ...(url ? { DATABASE_URL: url, DATABASE_SCHEMA: schema } : {}),
    })
    gateway = await startGateway(config, captured.logger)
    if (url) await seed(gateway.db.sql, { count: 10 })
  })
  afterAll(async () => {
    await gateway?.close()
    if (url) {
      const sql = createSql({ url, max: 1 })
      await sql`drop schema if exists ${sql(schema)} cascade`
      await sql.end()
    }
  })

  it('serves an allowlisted client and records its identity in the access log and the audit trail', async () => {
    const tls = { ca: certs.ca, ...(await certs.client('partner-a')) }
    expect(gateway.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
    const jwks = JSON.parse((await get(`${gateway.url}/.well-known/jwks.json`, tls)).body)
    const token = await encryptMbiJwe(seededMbi(2), chooseKey(jwks))
    const answer = await get(patientSearchUrl(gateway.url, token), tls)
    expect(answer.status).toBe(200)
    expect(JSON.parse(answer.body).entry[0].resource.id).toBe(seededBeneId(2))
    const identity = `cn=partner-a sha256=${await certs.fingerprint('partner-a')}`
    const access = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request')
    expect(access.at(-1)).toMatchObject({ client: identity, status: 200 })
    await new Promise((r) => setTimeout(r, 200))
    const audit = (await readFile(auditFile, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(audit.at(-1)).toMatchObject({ client: identity, beneIds: [seededBeneId(2)] })
  })

  it('refuses a client whose certificate the CA signed but the allowlist does not name, with 403', async () => {
    const answer = await get(`${gateway.url}/v2/fhir/metadata`, {
      ca: certs.ca,
      ...(await certs.client('partner-b')),
    })
    expect(answer.status).toBe(403)
    const outcome = JSON.parse(answer.body)
    expect(outcome.issue[0].details.coding[0].code).toBe('ERR_CLIENT_NOT_ALLOWED')
  })

  it('refuses a client certificate from another CA at the TLS handshake', async () => {
    await expect(
      get(`${gateway.url}/v2/fhir/metadata`, { ca: certs.ca, ...(await certs.client('intruder')) }),
    ).rejects.toThrow()
  })

  it('refuses a client without a certificate at the TLS handshake, and logs it', async () => {
    await expect(get(`${gateway.url}/v2/fhir/metadata`, { ca: certs.ca })).rejects.toThrow()
    await new Promise((r) => setTimeout(r, 50))
    expect(lines.some((l) => l.includes('TLS handshake refused'))).toBe(true)
  })
})

describe('mTLS configuration', () => {
  it('needs all four TLS settings, naming the missing one', () => {
    expect(() => loadConfig({ TLS_CERT_FILE: 'a' })).toThrow(/TLS_KEY_FILE: mTLS needs all of/)
  })

  it('refuses an allowlist entry that is not a SHA-256 fingerprint', () => {
    expect(() =>
      loadConfig({
        TLS_CERT_FILE: 'a',
        TLS_KEY_FILE: 'b',
        TLS_CLIENT_CA_FILE: 'c',
        TLS_CLIENT_ALLOWLIST: 'abc',
      }),
    ).toThrow(/TLS_CLIENT_ALLOWLIST/)
  })
})
