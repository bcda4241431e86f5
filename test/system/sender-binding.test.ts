/**
 * Sender-bound tokens over real TLS: certificates made here with openssl, a gateway with mTLS
 * (partner-a allowlisted, partner-b allowlisted and marked `=bound`) and one on plain HTTP over
 * the same keys. Tokens come from the client library, from `npm run encrypt -- --bind-cert`, and
 * from jwcrypto with the `x5t#S256` member set by hand.
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chooseKey, encryptMbi, patientSearchUrl, type GatewayJwk } from '@sealed-search/client'
import { loadConfig } from '../../src/config/index.js'
import { seed, seededBeneId, seededMbi } from '../../src/db/seed.js'
import { createSql } from '../../src/db/sql.js'
import { startGateway, type RunningGateway } from '../../src/server.js'
import { capturingLogger } from '../support/app.js'
import { codeOf, get, type Tls } from '../support/https.js'
import { tempDir } from '../support/keys.js'
import { makeCertificates, type Pki } from '../support/mtls.js'

const TSX = ['--import', 'tsx']

function run(file: string, args: string[], stdin: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { timeout: 120_000 }, (error, stdout, stderr) =>
      error ? reject(new Error(stderr || error.message)) : resolve(stdout),
    )
    child.stdin!.end(stdin)
  })
}

describe('sender-bound tokens over mTLS', () => {
  let dir: string
  let tlsGateway: RunningGateway
  let plainGateway: RunningGateway
  let lines: string[]
  let jwks: { keys: GatewayJwk[] }
  let jwksFile: string
  let a: Tls
  let b: Tls
  let ca: Buffer
  let pki: Pki
  const fp = (name: string) => pki.partners[name]!.fingerprint256
  const url = process.env.DATABASE_URL // a real server when set; else the embedded database
  const schemas = [1, 2].map(() => `binding_${randomBytes(5).toString('hex')}`)

  beforeAll(async () => {
    dir = await tempDir()
    pki = await makeCertificates(dir)
    ca = pki.ca
    const client = async (name: string) => ({
      ca,
      cert: await readFile(join(dir, `${name}.crt`)),
      key: await readFile(join(dir, `${name}.key`)),
    })
    a = await client('partner-a')
    b = await client('partner-b')
    const captured = capturingLogger()
    lines = captured.lines
    const common = (n: number) => ({
      PORT: '0',
      KEYS_DIR: join(dir, 'keys'),
      DATA_DIR: join(dir, `data-${n}`),
      SEED_COUNT: '10',
      AUDIT_LOG: join(dir, `audit-${n}.log`),
      ...(url ? { DATABASE_URL: url, DATABASE_SCHEMA: schemas[n]! } : {}),
    })
    tlsGateway = await startGateway(
      loadConfig({
        ...common(0),
        TLS_CERT_FILE: join(dir, 'server.crt'),
        TLS_KEY_FILE: join(dir, 'server.key'),
        TLS_CLIENT_CA_FILE: join(dir, 'ca.crt'),
        TLS_CLIENT_ALLOWLIST: `${fp('partner-a')},${fp('partner-b')}=bound`,
      }),
      captured.logger,
    )
    plainGateway = await startGateway(loadConfig(common(1)), capturingLogger().logger)
    if (url) {
      await seed(tlsGateway.db.sql, { count: 10 })
      await seed(plainGateway.db.sql, { count: 10 })
    }
    jwks = JSON.parse((await get(`${tlsGateway.url}/.well-known/jwks.json`, a)).body)
    jwksFile = join(dir, 'jwks.json')
    await writeFile(jwksFile, JSON.stringify(jwks))
  })
  afterAll(async () => {
    await tlsGateway?.close()
    await plainGateway?.close()
    if (url) {
      const sql = createSql({ url, max: 1 })
      for (const s of schemas) await sql`drop schema if exists ${sql(s)} cascade`
      await sql.end()
    }
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  const plainUrl = (tlsUrl: string) => tlsUrl.replace(tlsGateway.url, plainGateway.url)

  it.each(['jwe', 'hpke'] as const)(
    'answers a %s token bound to A over A, and refuses it over B, without a certificate and over plain HTTP',
    async (format) => {
      const cert = await readFile(join(dir, 'partner-a.crt'), 'utf8')
      const key = chooseKey(jwks, undefined, { format })
      const token = await encryptMbi(seededMbi(3), key, { format, bindCertificate: cert })
      const search = patientSearchUrl(tlsGateway.url, token)

      const overA = await get(search, a)
      expect(overA.status).toBe(200)
      expect(JSON.parse(overA.body).entry[0].resource.id).toBe(seededBeneId(3))

      const overB = await get(search, b)
      // JWE: the header names the certificate, refused before the key is used (403); HPKE: the
      // certificate is in info, so the token does not open over another one (400).
      expect([overB.status, codeOf(overB)]).toEqual(
        format === 'jwe'
          ? [403, 'ERR_TOKEN_SENDER_MISMATCH']
          : [400, 'ERR_TOKEN_DECRYPTION_FAILED'],
      )
      expect(overB.body).not.toContain(fp('partner-a').replaceAll(':', ''))

      await expect(get(search, { ca })).rejects.toThrow() // the TLS layer wants a certificate

      const plain = await get(plainUrl(search))
      expect([plain.status, codeOf(plain)]).toEqual([403, 'ERR_TOKEN_SENDER_MISMATCH'])
      expect(plain.body).not.toContain(fp('partner-a').replaceAll(':', ''))
    },
  )

  it('fails a replay, from another client, of a URL taken from the access log', async () => {
    const cert = await readFile(join(dir, 'partner-a.crt'), 'utf8')
    const token = await encryptMbi(seededMbi(4), chooseKey(jwks), { bindCertificate: cert })
    expect((await get(patientSearchUrl(tlsGateway.url, token), a)).status).toBe(200)
    const logged = lines
      .map((l) => JSON.parse(l))
      .filter((l) => l.msg === 'request' && l.status === 200 && l.query.includes(token))
      .at(-1)
    expect(logged).toBeDefined()
    const replay = await get(`${tlsGateway.url}${logged.path}${logged.query}`, b)
    expect([replay.status, codeOf(replay)]).toEqual([403, 'ERR_TOKEN_SENDER_MISMATCH'])
  })

  it('opens a jwcrypto token whose x5t#S256 was set by hand over A only', async () => {
    const p256 = chooseKey(jwks, 'P-256')
    const script = [
      'import hashlib, json, ssl, sys',
      'from jwcrypto import jwe, jwk, common',
      'key = jwk.JWK(**json.loads(sys.argv[1]))',
      'der = ssl.PEM_cert_to_DER_cert(open(sys.argv[2]).read())',
      'x5t = common.base64url_encode(hashlib.sha256(der).digest())',
      'header = {"alg": "ECDH-ES", "enc": "A256GCM", "kid": key["kid"], "x5t#S256": x5t}',
      't = jwe.JWE(sys.stdin.buffer.read(), protected=json.dumps(header))',
      't.add_recipient(key)',
      'print(t.serialize(compact=True))',
    ].join('\n')
    const token = (
      await run(
        '/usr/bin/python3',
        ['-I', '-c', script, JSON.stringify(p256), join(dir, 'partner-a.crt')],
        seededMbi(5),
      )
    ).trim()
    const search = patientSearchUrl(tlsGateway.url, token)
    const overA = await get(search, a)
    expect(overA.status).toBe(200)
    expect(JSON.parse(overA.body).entry[0].resource.id).toBe(seededBeneId(5))
    expect(codeOf(await get(search, b))).toBe('ERR_TOKEN_SENDER_MISMATCH')
  })

  it('makes bound tokens with npm run encrypt -- --bind-cert (PEM and DER)', async () => {
    const der = pki.partners['partner-a']!.derFile
    for (const [format, cert] of [
      ['hpke', join(dir, 'partner-a.crt')],
      ['jwe', der],
    ] as const) {
      const out = await run(
        process.execPath,
        [
          ...TSX,
          'scripts/encrypt.ts',
          '-',
          '--jwks',
          jwksFile,
          '--base',
          tlsGateway.url,
          '--format',
          format,
          '--bind-cert',
          cert,
        ],
        seededMbi(6),
      )
      const search = out.trim().split('\n')[1]!
      expect((await get(search, a)).status).toBe(200)
      expect((await get(search, b)).status).toBeGreaterThanOrEqual(400)
    }
  })

  it('refuses unbound tokens from a client marked =bound, serves them to others, and counts both', async () => {
    const token = await encryptMbi(seededMbi(7), chooseKey(jwks))
    const search = patientSearchUrl(tlsGateway.url, token)
    expect((await get(search, a)).status).toBe(200)
    const overB = await get(search, b)
    expect([overB.status, codeOf(overB)]).toEqual([403, 'ERR_TOKEN_BINDING_REQUIRED'])
    const cert = await readFile(join(dir, 'partner-b.crt'), 'utf8')
    const bound = await encryptMbi(seededMbi(7), chooseKey(jwks), { bindCertificate: cert })
    expect((await get(patientSearchUrl(tlsGateway.url, bound), b)).status).toBe(200)

    const metrics = (await get(`${tlsGateway.url}/metrics`, a)).body
    const count = async (name: string, binding: string) => {
      const client = `cn=${name} sha256=${fp(name)}`
      const line = metrics
        .split('\n')
        .find((l) =>
          l.startsWith(
            `sealed_search_token_binding_total{client="${client}",binding="${binding}"}`,
          ),
        )
      return line === undefined ? 0 : Number(line.split(' ').at(-1))
    }
    expect(await count('partner-a', 'bound')).toBeGreaterThanOrEqual(3)
    expect(await count('partner-a', 'unbound')).toBeGreaterThanOrEqual(1)
    expect(await count('partner-b', 'unbound')).toBeGreaterThanOrEqual(1)
    expect(await count('partner-b', 'bound')).toBeGreaterThanOrEqual(1)
    expect(await count('partner-b', 'mismatch')).toBeGreaterThanOrEqual(3)
  })
})
