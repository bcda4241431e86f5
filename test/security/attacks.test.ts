/**
 * The attack battery: hostile requests, each with the exact status and OperationOutcome code it
 * must get. None may produce a 5xx, echo the token or leak an identifier.
 */
import { rm } from 'node:fs/promises'
import { request as httpRequest } from 'node:http'
import { connect, type AddressInfo } from 'node:net'
import type { ServerType } from '@hono/node-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encryptMbiHpke, encryptMbiJwe } from '@sealed-search/client'
import { seed, seededMbi } from '../../src/db/seed.js'
import { createApp } from '../../src/http/app.js'
import { listen } from '../../src/http/listen.js'
import { generateInStore } from '../../src/keys/custody/custody.js'
import { dirKeyStore } from '../../src/keys/stores/dir-store.js'
import { ringFromStore } from '../../src/keys/ring/follow.js'
import { KeyRing, staticKeyRing } from '../../src/keys/ring/keyring.js'
import type { RingKey } from '../../src/keys/ring/ring-key.js'
import { closePkcs11Tokens } from '../../src/keys/pkcs11/store.js'
import { createLogger } from '../../src/log/logger.js'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { threeKeyRing } from '../support/hybrid-keys.js'
import { tempDir, twoKeyRing } from '../support/keys.js'
import { softHsmMissing, startSoftHsm, type SoftHsm } from '../support/softhsm.js'
import { capturingLogger, errorCode, searchPath, type Outcome } from '../support/app.js'
import { b64, flipBit, hpkeFor, jweFor, reheader, unb64 } from '../support/tokens.js'

const NOW = new Date()
const NOW_S = Math.floor(NOW.getTime() / 1000)
const MBI = seededMbi(3)

let db: TestDatabase
let p256: RingKey
let x25519: RingKey
let retired: RingKey
let app: ReturnType<typeof createApp>
let strictApp: ReturnType<typeof createApp>
let lines: string[]

beforeAll(async () => {
  db = await createTestDatabase()
  await seed(db.sql, { count: 20 })
  const { ring } = await twoKeyRing()
  const other = (await twoKeyRing()).ring
  p256 = ring.keys.find((k) => k.crv === 'P-256')!
  x25519 = ring.keys.find((k) => k.crv === 'X25519')!
  retired = { ...other.keys.find((k) => k.crv === 'P-256')!, state: 'retired' }
  buildApps()
})
afterAll(() => db?.close())

/** The apps over the ring of p256, x25519 and a retired key, logging into `lines`. */
function buildApps() {
  const keys = staticKeyRing(new KeyRing([p256, x25519, retired]))
  const captured = capturingLogger()
  lines = captured.lines
  const base = { keys, sql: db.sql, logger: captured.logger, publicBaseUrl: 'http://gw.test' }
  app = createApp(base)
  strictApp = createApp({ ...base, tokenPolicy: { requireExp: true, maxLifetimeSeconds: 300 } })
}

type Case = [name: string, path: () => Promise<string>, status: number, code: string]

const token = (plaintext: string = MBI, header: Record<string, unknown> = {}) =>
  jweFor(p256, plaintext, header)
const withHeader = async (edit: (h: Record<string, unknown>) => void) =>
  reheader(await token(), edit)
const search = async (t: Promise<string> | string) => searchPath(await t)

/** x5t#S256 values (RFC 8705 §3.1): the SHA-256 of some client certificate, and of another. */
const X5T = b64(new Uint8Array(32).fill(0xa5))
const OTHER_X5T = b64(new Uint8Array(32).fill(0x5a))
const bound = () => token(MBI, { 'x5t#S256': X5T })
const withBinding = async (value: unknown) =>
  reheader(await bound(), (h) => {
    h['x5t#S256'] = value
  })
/** The bound token's header with its JSON text edited: a member JSON.parse would collapse. */
const rawHeader = async (edit: (json: string) => string) => {
  const [head, ...rest] = (await bound()).split('.')
  return [b64(edit(unb64(head!).toString('utf8'))), ...rest].join('.')
}

const CASES: Case[] = [
  ['alg none', () => search(withHeader((h) => (h.alg = 'none'))), 400, 'ERR_TOKEN_ALG_UNSUPPORTED'],
  ['alg dir', () => search(withHeader((h) => (h.alg = 'dir'))), 400, 'ERR_TOKEN_ALG_UNSUPPORTED'],
  [
    'alg RSA-OAEP',
    () => search(withHeader((h) => (h.alg = 'RSA-OAEP'))),
    400,
    'ERR_TOKEN_ALG_UNSUPPORTED',
  ],
  [
    'alg RSA1_5',
    () => search(withHeader((h) => (h.alg = 'RSA1_5'))),
    400,
    'ERR_TOKEN_ALG_UNSUPPORTED',
  ],
  [
    'alg PBES2-HS256+A128KW',
    () => search(withHeader((h) => (h.alg = 'PBES2-HS256+A128KW'))),
    400,
    'ERR_TOKEN_ALG_UNSUPPORTED',
  ],
  [
    'alg HS256',
    () => search(withHeader((h) => (h.alg = 'HS256'))),
    400,
    'ERR_TOKEN_ALG_UNSUPPORTED',
  ],
  [
    'alg as a number',
    () => search(withHeader((h) => (h.alg = 1))),
    400,
    'ERR_TOKEN_ALG_UNSUPPORTED',
  ],
  [
    'enc A128CBC-HS256',
    () => search(withHeader((h) => (h.enc = 'A128CBC-HS256'))),
    400,
    'ERR_TOKEN_ENC_UNSUPPORTED',
  ],
  [
    'a JWS where a JWE is expected',
    async () =>
      searchPath(
        `${b64('{"alg":"HS256","typ":"JWT"}')}.${b64(`{"mbi":"${MBI}"}`)}.${b64('x'.repeat(32))}`,
      ),
    400,
    'ERR_TOKEN_FORMAT_UNSUPPORTED',
  ],
  [
    'zip DEF',
    () => search(withHeader((h) => (h.zip = 'DEF'))),
    400,
    'ERR_TOKEN_HEADER_UNSUPPORTED',
  ],
  [
    'unknown crit',
    () => search(withHeader((h) => (h.crit = ['x-unknown']))),
    400,
    'ERR_TOKEN_HEADER_UNSUPPORTED',
  ],
  [
    'embedded jwk',
    () => search(withHeader((h) => (h.jwk = p256.publicJwk))),
    400,
    'ERR_TOKEN_HEADER_UNSUPPORTED',
  ],
  [
    'jku',
    () => search(withHeader((h) => (h.jku = 'https://evil.example/jwks'))),
    400,
    'ERR_TOKEN_HEADER_UNSUPPORTED',
  ],
  [
    'x5u',
    () => search(withHeader((h) => (h.x5u = 'https://evil.example/x509'))),
    400,
    'ERR_TOKEN_HEADER_UNSUPPORTED',
  ],
  ['x5c', () => search(withHeader((h) => (h.x5c = ['MIIB']))), 400, 'ERR_TOKEN_HEADER_UNSUPPORTED'],
  [
    'epk point not on the curve',
    () =>
      search(
        withHeader((h) => {
          const epk = h.epk as { x: string }
          const x = unb64(epk.x)
          x[0] = x[0]! ^ 0xff
          epk.x = b64(x)
        }),
      ),
    400,
    'ERR_TOKEN_DECRYPTION_FAILED',
  ],
  [
    'low-order X25519 epk (all zero)',
    async () =>
      searchPath(
        reheader(await jweFor(x25519, MBI), (h) => {
          ;(h.epk as { x: string }).x = b64(new Uint8Array(32))
        }),
      ),
    400,
    'ERR_TOKEN_DECRYPTION_FAILED',
  ],
  [
    'low-order X25519 epk (order 8)',
    async () =>
      searchPath(
        reheader(await jweFor(x25519, MBI), (h) => {
          ;(h.epk as { x: string }).x = b64(
            Buffer.from('e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800', 'hex'),
          )
        }),
      ),
    400,
    'ERR_TOKEN_DECRYPTION_FAILED',
  ],
  [
    'curve mismatch between epk and key',
    async () => searchPath(reheader(await jweFor(x25519, MBI), (h) => (h.kid = p256.kid))),
    400,
    'ERR_TOKEN_EPK_INVALID',
  ],
  [
    'tampered tag',
    async () => searchPath(flipBit(await token(), 4, 9)),
    400,
    'ERR_TOKEN_DECRYPTION_FAILED',
  ],
  [
    'tampered IV',
    async () => searchPath(flipBit(await token(), 2, 9)),
    400,
    'ERR_TOKEN_DECRYPTION_FAILED',
  ],
  [
    'tampered ciphertext',
    async () => searchPath(flipBit(await token(), 3, 9)),
    400,
    'ERR_TOKEN_DECRYPTION_FAILED',
  ],
  [
    'tampered protected header',
    async () =>
      searchPath(reheader(await token(MBI, { apv: b64('bob') }), (h) => (h.apv = b64('eve')))),
    400,
    'ERR_TOKEN_DECRYPTION_FAILED',
  ],
  [
    'tampered wrapped key',
    async () => searchPath(flipBit(await token(MBI, { alg: 'ECDH-ES+A256KW' }), 1, 9)),
    400,
    'ERR_TOKEN_DECRYPTION_FAILED',
  ],
  [
    'truncated token',
    async () => searchPath((await token()).slice(0, -10)),
    400,
    'ERR_TOKEN_MALFORMED',
  ],
  [
    'token with four segments',
    async () => searchPath((await token()).split('.').slice(0, 4).join('.')),
    400,
    'ERR_TOKEN_FORMAT_UNSUPPORTED',
  ],
  ['oversized token', async () => searchPath('eyJ' + 'A'.repeat(1100)), 400, 'ERR_TOKEN_TOO_LONG'],
  [
    'wrong kid',
    () => search(withHeader((h) => (h.kid = retired.kid.slice(0, 20)))),
    400,
    'ERR_TOKEN_KID_UNKNOWN',
  ],
  ['missing kid', () => search(withHeader((h) => delete h.kid)), 400, 'ERR_TOKEN_KID_MISSING'],
  [
    'kid of a retired key',
    async () => searchPath(await jweFor(retired, MBI)),
    400,
    'ERR_TOKEN_KID_UNKNOWN',
  ],
  [
    'kid as an object',
    () => search(withHeader((h) => (h.kid = { $ne: null }))),
    400,
    'ERR_TOKEN_MALFORMED',
  ],
  [
    'expired exp',
    () => search(token(JSON.stringify({ mbi: MBI, exp: NOW_S - 3600 }))),
    400,
    'ERR_TOKEN_EXPIRED',
  ],
  [
    'far-future iat',
    () => search(token(JSON.stringify({ mbi: MBI, iat: NOW_S + 86_400 * 365 }))),
    400,
    'ERR_TOKEN_NOT_YET_VALID',
  ],
  [
    'negative exp',
    () => search(token(JSON.stringify({ mbi: MBI, exp: -1 }))),
    400,
    'ERR_TOKEN_CLAIMS_INVALID',
  ],
  ['non-MBI plaintext', () => search(token('hello')), 400, 'ERR_TOKEN_IDENTIFIER_INVALID'],
  [
    'over-long plaintext',
    () => search(token('1'.repeat(300))),
    400,
    'ERR_TOKEN_IDENTIFIER_INVALID',
  ],
  [
    'SQL in the plaintext',
    () => search(token("1S00' OR '1'='1")),
    400,
    'ERR_TOKEN_IDENTIFIER_INVALID',
  ],
  [
    'SQL in the claims mbi',
    () => search(token(JSON.stringify({ mbi: "'; drop table beneficiaries;--" }))),
    400,
    'ERR_TOKEN_IDENTIFIER_INVALID',
  ],
  [
    'SQL in the token',
    async () => searchPath("eyJ'; drop table beneficiaries;--.a.b.c.d"),
    400,
    'ERR_TOKEN_MALFORMED',
  ],
  [
    'SQL in the identifier system',
    async () => "/v2/fhir/Patient?identifier=' OR 1=1--|abc",
    400,
    'ERR_IDENTIFIER_SYSTEM_UNSUPPORTED',
  ],
  [
    'SQL in a parameter name',
    async () => `${await search(token())}&'%3Bdrop%20table%20x--=1`,
    400,
    'ERR_PARAM_UNSUPPORTED',
  ],
  [
    'SQL in _format',
    async () => `${await search(token())}&_format=' OR 1=1`,
    406,
    'ERR_FORMAT_UNSUPPORTED',
  ],
  [
    'repeated identifier',
    async () => `${await search(token())}&identifier=x`,
    400,
    'ERR_PARAM_REPEATED',
  ],
  [
    'unknown parameter',
    async () => `${await search(token())}&_include=*`,
    400,
    'ERR_PARAM_UNSUPPORTED',
  ],
  [
    'plaintext MBI in the URL',
    async () => `/v2/fhir/Patient?identifier=http://hl7.org/fhir/sid/us-mbi|${MBI}`,
    400,
    'ERR_PLAINTEXT_IN_URL',
  ],
  [
    'invalid percent-encoding',
    async () => '/v2/fhir/Patient?identifier=%E0%A4%A',
    400,
    'ERR_IDENTIFIER_MALFORMED',
  ],
  [
    'NUL bytes in the token',
    async () => searchPath('%00%00%00.a.b.c.d'),
    400,
    'ERR_TOKEN_MALFORMED',
  ],
  [
    'a URL over the length limit',
    async () => `/v2/fhir/Patient?identifier=x&pad=${'a'.repeat(9000)}`,
    414,
    'ERR_URL_TOO_LONG',
  ],
  ['path traversal', async () => '/v2/fhir/../../etc/passwd', 404, 'ERR_NOT_FOUND'],
  // Issue 10: one spelling per value, no Unicode folding, no stripped byte order mark.
  [
    'a padded apu',
    () => search(withHeader((h) => (h.apu = 'QWxpY2U='))),
    400,
    'ERR_TOKEN_MALFORMED',
  ],
  [
    'a non-canonical apv (unused bits set)',
    () => search(withHeader((h) => (h.apv = 'QWz'))),
    400,
    'ERR_TOKEN_MALFORMED',
  ],
  [
    'an apu in base64 (+ and /)',
    () => search(withHeader((h) => (h.apu = '+/+/'))),
    400,
    'ERR_TOKEN_MALFORMED',
  ],
  [
    'a byte order mark before the payload',
    () => search(token(`\ufeff${JSON.stringify({ mbi: MBI })}`)),
    400,
    'ERR_TOKEN_IDENTIFIER_INVALID',
  ],
  [
    'an MBI with U+017F for S',
    () => search(token(JSON.stringify({ mbi: MBI.replace('S', '\u017f') }))),
    400,
    'ERR_TOKEN_IDENTIFIER_INVALID',
  ],
  [
    'an MBI with a full-width digit',
    () => search(token(JSON.stringify({ mbi: '\uff11' + MBI.slice(1) }))),
    400,
    'ERR_TOKEN_IDENTIFIER_INVALID',
  ],
  [
    'an MBI with a zero-width space',
    () => search(token(JSON.stringify({ mbi: MBI.slice(0, 5) + '\u200b' + MBI.slice(5) }))),
    400,
    'ERR_TOKEN_IDENTIFIER_INVALID',
  ],
  [
    'an MBI with a combining mark',
    () => search(token(JSON.stringify({ mbi: MBI.slice(0, 10) + '\u0301' }))),
    400,
    'ERR_TOKEN_IDENTIFIER_INVALID',
  ],
  // Sender-bound tokens (docs/TOKENS.md): the member is parsed before any key is used, and a
  // bound token over a connection without its certificate (here: plain HTTP) is refused.
  [
    'x5t#S256 of 42 characters',
    () => search(withBinding(X5T.slice(0, 42))),
    400,
    'ERR_TOKEN_MALFORMED',
  ],
  ['x5t#S256 of 44 characters', () => search(withBinding(X5T + 'A')), 400, 'ERR_TOKEN_MALFORMED'],
  [
    'x5t#S256 with padding',
    () => search(withBinding(X5T.slice(0, 42) + '=')),
    400,
    'ERR_TOKEN_MALFORMED',
  ],
  [
    'x5t#S256 in base64 (+/)',
    () => search(withBinding(X5T.slice(0, 41) + '+/')),
    400,
    'ERR_TOKEN_MALFORMED',
  ],
  [
    'x5t#S256 of 48 bytes',
    () => search(withBinding(b64(new Uint8Array(48)))),
    400,
    'ERR_TOKEN_MALFORMED',
  ],
  ['x5t#S256 empty', () => search(withBinding('')), 400, 'ERR_TOKEN_MALFORMED'],
  ['x5t#S256 as an array', () => search(withBinding([X5T])), 400, 'ERR_TOKEN_MALFORMED'],
  ['x5t#S256 as an object', () => search(withBinding({ $ne: null })), 400, 'ERR_TOKEN_MALFORMED'],
  ['x5t#S256 oversized', () => search(withBinding('A'.repeat(300))), 400, 'ERR_TOKEN_MALFORMED'],
  [
    'x5t#S256 twice',
    () => search(rawHeader((j) => j.replace('{', `{"x5t#S256":"${OTHER_X5T}",`))),
    400,
    'ERR_TOKEN_MALFORMED',
  ],
  [
    'x5t#S256 twice, once spelled with \\u0023',
    () => search(rawHeader((j) => j.replace(/}$/, `,"x5t\\u0023S256":"${OTHER_X5T}"}`))),
    400,
    'ERR_TOKEN_MALFORMED',
  ],
  ['a bound JWE over plain HTTP', () => search(bound()), 403, 'ERR_TOKEN_SENDER_MISMATCH'],
  [
    'a bound HPKE token (version 3) over plain HTTP',
    () => search(hpkeFor(x25519, MBI, unb64(X5T))),
    403,
    'ERR_TOKEN_SENDER_MISMATCH',
  ],
]

// The battery runs against the P-256 key in process and, where SoftHSM2 and pkcs11js are
// installed (.ci/run makes sure), against a P-256 key in a SoftHSM2 token (src/keys/pkcs11/).
const P256_BACKENDS = softHsmMissing() ? ['in process'] : ['in process', 'in a SoftHSM2 token']

describe.each(P256_BACKENDS)('the attack battery, the P-256 key %s', (backend) => {
  let hsm: SoftHsm | undefined
  let hsmDir: string | undefined
  let inProcess: RingKey
  beforeAll(async () => {
    if (backend === 'in process') return
    inProcess = p256
    hsm = await startSoftHsm('sealed-attacks')
    hsmDir = await tempDir('sealed-attacks-hsm-')
    const store = dirKeyStore(hsmDir, { pkcs11: hsm.options })
    const entry = await generateInStore(store, 'P-256', 0, undefined, { hsm: true })
    const ring = await ringFromStore(await store.read(), new Map(), (error) => {
      throw error
    })
    p256 = ring.get(entry.kid)!
    expect(p256.store).toBe('pkcs11')
    buildApps()
  }, 60_000)
  afterAll(async () => {
    if (backend === 'in process') return
    p256 = inProcess
    buildApps()
    closePkcs11Tokens()
    if (hsmDir) await rm(hsmDir, { recursive: true, force: true })
    await hsm?.close()
  })

  it('has at least 30 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(30)
  })

  const named = CASES.map(([n, p, s, c]) => [`${n} gets ${s} ${c}`, p, s, c] as const)
  it.each(named)('%s', async (_name, path, status, code) => {
    const before = lines.length
    const p = await path()
    const res = await app.request(p)
    const text = await res.text()
    expect(res.status).toBe(status)
    expect(res.headers.get('content-type')).toMatch(/^application\/fhir\+json/)
    const outcome = JSON.parse(text) as Outcome
    expect(outcome.resourceType).toBe('OperationOutcome')
    expect(errorCode(outcome)).toBe(code)
    // Nothing the client sent comes back, and no identifier reaches the logs.
    const sent = p.split('|').pop()!.split('%7C').pop()!
    let token = sent
    try {
      token = decodeURIComponent(sent)
    } catch {
      // not valid percent-encoding: compare as sent
    }
    for (const part of token.split('.').filter((s) => s.length >= 12))
      expect(text).not.toContain(part)
    expect(text).not.toContain(MBI)
    expect(lines.slice(before).join('\n')).not.toContain(MBI)
  })
})

describe('the replay window, when configured', () => {
  it('refuses a token without exp', async () => {
    const res = await strictApp.request(await search(token()))
    expect([res.status, errorCode((await res.json()) as Outcome)]).toEqual([
      400,
      'ERR_TOKEN_EXP_REQUIRED',
    ])
  })

  it('refuses a far-future exp', async () => {
    const res = await strictApp.request(
      await search(token(JSON.stringify({ mbi: MBI, iat: NOW_S, exp: NOW_S + 86_400 }))),
    )
    expect([res.status, errorCode((await res.json()) as Outcome)]).toEqual([
      400,
      'ERR_TOKEN_LIFETIME_TOO_LONG',
    ])
  })

  it('serves a token inside the window', async () => {
    const t = await encryptMbiJwe(MBI, p256.publicJwk, { ttlSeconds: 120 })
    expect((await strictApp.request(searchPath(t))).status).toBe(200)
  })

  it('is off by default: a token without exp is served', async () => {
    expect((await app.request(await search(token()))).status).toBe(200)
  })
})

describe('limits the HTTP parser enforces, over real HTTP', () => {
  let server: ServerType
  let port: number
  beforeAll(async () => {
    server = await listen(app.fetch, { host: '127.0.0.1', port: 0, logger: createLogger('silent') })
    port = (server.address() as AddressInfo).port
  })
  afterAll(() => new Promise<void>((r) => server.close(() => r())))

  function raw(path: string, headers: Record<string, string> = {}) {
    return new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path, headers }, (res) => {
        let body = ''
        res.on('data', (d: Buffer) => (body += d.toString()))
        res.on('end', () => resolve({ status: res.statusCode!, body }))
      })
      req.on('error', reject)
      req.end()
    })
  }

  it('answers huge headers with 431 and an OperationOutcome', async () => {
    const r = await raw('/v2/fhir/metadata', { 'X-Pad': 'a'.repeat(20_000) })
    expect(r.status).toBe(431)
    expect(JSON.parse(r.body).resourceType).toBe('OperationOutcome')
  })

  it('answers a URL beyond the header limit with 431 and an OperationOutcome', async () => {
    const r = await raw(`/v2/fhir/Patient?identifier=${'a'.repeat(20_000)}`)
    expect(r.status).toBe(431)
    expect(JSON.parse(r.body).resourceType).toBe('OperationOutcome')
  })

  /** Sends `request` as raw bytes and reads whatever comes back until the server closes. */
  function rawBytes(request: string) {
    return new Promise<{ status: number; body: string }>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write(request))
      let text = ''
      socket.on('data', (d: Buffer) => (text += d.toString()))
      socket.on('error', reject)
      socket.setTimeout(10_000, () => socket.destroy(new Error('no answer')))
      socket.on('close', () => {
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)
        resolve({ status, body: text.slice(text.indexOf('\r\n\r\n') + 4) })
      })
    })
  }

  it.each([
    ['CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', 405],
    ['CONNECT 127.0.0.1:5432 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 405],
    ['FROBNICATE /v2/fhir/Patient HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    ['PROPFIND /v2/fhir/Patient HTTP/1.1\r\nHost: x\r\n\r\n', 405],
    ['TRACE /v2/fhir/metadata HTTP/1.1\r\nHost: x\r\n\r\n', 405],
  ])(
    'answers %j with %i and an OperationOutcome, never a dropped connection',
    async (req, status) => {
      const r = await rawBytes(req)
      expect(r.status).toBe(status)
      expect(JSON.parse(r.body).resourceType).toBe('OperationOutcome')
    },
  )

  it('answers a long URL under the header limit with 414', async () => {
    const r = await raw(`/v2/fhir/Patient?identifier=${'a'.repeat(10_000)}`)
    expect(r.status).toBe(414)
    expect(JSON.parse(r.body).issue[0].code).toBe('too-long')
  })
})

describe('the attack battery, hybrid (X-Wing) tokens', () => {
  let hybridApp: ReturnType<typeof createApp>
  let hybridLines: string[]
  let good: Buffer
  let classic: Buffer
  let hybridKeyId: number
  beforeAll(async () => {
    const { ring, hybrid } = await threeKeyRing()
    const captured = capturingLogger()
    hybridLines = captured.lines
    hybridApp = createApp({
      keys: staticKeyRing(ring),
      sql: db.sql,
      logger: captured.logger,
      publicBaseUrl: 'http://gw.test',
    })
    hybridKeyId = hybrid.hpkeKeyId!
    good = Buffer.from(await encryptMbiHpke(MBI, hybrid.publicJwk), 'base64url')
    const x = ring.keys.find((k) => k.crv === 'X25519')!
    classic = Buffer.from(await encryptMbiHpke(MBI, x.publicJwk), 'base64url')
  })

  const edit = (change: (b: Buffer) => Buffer | void) => () => {
    const b = Buffer.from(good)
    return (change(b) ?? b).toString('base64url')
  }
  const HEADER = 9
  const ENC = 1120
  const HYBRID_CASES: [string, () => string, string][] = [
    ['a truncated enc', edit((b) => b.subarray(0, HEADER + ENC - 1)), 'ERR_TOKEN_MALFORMED'],
    [
      'an oversized enc (1 byte more before the ciphertext)',
      edit((b) =>
        Buffer.concat([b.subarray(0, HEADER + ENC), Buffer.of(0), b.subarray(HEADER + ENC)]),
      ),
      'ERR_TOKEN_DECRYPTION_FAILED',
    ],
    [
      'a ciphertext of the X25519 KEM’s length',
      edit((b) => Buffer.concat([b.subarray(0, HEADER), classic.subarray(HEADER)])),
      'ERR_TOKEN_MALFORMED',
    ],
    [
      'a wrong suite (AES-128-GCM)',
      edit((b) => {
        b[8] = 0x01
      }),
      'ERR_TOKEN_SUITE_UNSUPPORTED',
    ],
    [
      'a wrong suite (the SHAKE256 KDF)',
      edit((b) => {
        b[6] = 0x11
      }),
      'ERR_TOKEN_SUITE_UNSUPPORTED',
    ],
    [
      'a bit flip in the ML-KEM half of enc',
      edit((b) => {
        b[HEADER + 700]! ^= 0x04
      }),
      'ERR_TOKEN_DECRYPTION_FAILED',
    ],
    [
      'a bit flip in the X25519 half of enc',
      edit((b) => {
        b[HEADER + 1088 + 7]! ^= 0x10
      }),
      'ERR_TOKEN_DECRYPTION_FAILED',
    ],
    [
      'an X25519 small-order point (zero) inside X-Wing',
      edit((b) => {
        b.fill(0, HEADER + 1088, HEADER + ENC)
      }),
      'ERR_TOKEN_DECRYPTION_FAILED',
    ],
    [
      'an X25519 small-order point (order 8) inside X-Wing',
      edit((b) => {
        Buffer.from('e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800', 'hex').copy(
          b,
          HEADER + 1088,
        )
      }),
      'ERR_TOKEN_DECRYPTION_FAILED',
    ],
    [
      'a DHKEM header naming the X-Wing key',
      edit(() => {
        const h = Buffer.from(classic.subarray(0, HEADER))
        h.writeUInt16BE(hybridKeyId, 1)
        return Buffer.concat([h, classic.subarray(HEADER)])
      }),
      'ERR_TOKEN_KEM_MISMATCH',
    ],
    [
      'over the hybrid length cap',
      () => good.subarray(0, HEADER).toString('base64url') + 'A'.repeat(1800),
      'ERR_TOKEN_TOO_LONG',
    ],
  ]

  it.each(HYBRID_CASES)(
    '%s gets 400 with one code, echoing nothing, logging no MBI',
    async (_, make, code) => {
      const before = hybridLines.length
      const sent = make()
      const res = await hybridApp.request(searchPath(sent))
      const text = await res.text()
      expect(res.status).toBe(400)
      const outcome = JSON.parse(text) as Outcome
      expect(outcome.resourceType).toBe('OperationOutcome')
      expect(errorCode(outcome)).toBe(code)
      const logged = hybridLines.slice(before).join('\n')
      // The answer echoes nothing of the token. The access log keeps the URL as sent (a sealed
      // token is what a log may hold); beyond it, only the error code: no MBI, no stack, no key.
      for (let at = 0; at + 24 <= sent.length; at += 200) {
        expect(text).not.toContain(sent.slice(at, at + 24))
      }
      expect(text + logged).not.toContain(MBI)
      expect(logged).not.toMatch(/"stack"|at [A-Za-z]+ \(|"priv"|"seed"/)
      expect(logged).toContain(`"search":{"error":"${code}"}`)
    },
  )
})
