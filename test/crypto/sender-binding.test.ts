/**
 * Sender-bound tokens (src/crypto/binding.ts): JWE `x5t#S256` and HPKE version 3, opened by the
 * gateway's native path and, for JWE, by the jose reference path, which must agree. The
 * certificates are made with openssl; the Python `cryptography` sealer (test/interop) is the
 * independent HPKE implementation.
 */
import { execFile, execFileSync } from 'node:child_process'
import { createHash, X509Certificate } from 'node:crypto'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { certificateThumbprint, encryptMbiHpke, encryptMbiJwe } from '@sealed-search/client'
import { enforceBinding, type Sender } from '../../src/crypto/binding.js'
import { TokenError, type TokenErrorCode } from '../../src/crypto/errors.js'
import { hasDuplicateMember, topLevelMemberNames } from '../../src/crypto/json-members.js'
import { openToken, type OpenedToken } from '../../src/crypto/token.js'
import type { KeyRing } from '../../src/keys/ring/keyring.js'
import type { RingKey } from '../../src/keys/ring/ring-key.js'
import { openJweWithJose, privateKeysOf, type PrivateKeys } from '../support/jose-reference.js'
import { twoKeyRing } from '../support/keys.js'
import { b64, reheader, unb64 } from '../support/tokens.js'

const MBI = '1S00E00AA00'
const NOW = new Date()
const SCRIPTS = fileURLToPath(new URL('../interop/', import.meta.url))

let dir: string
let ring: KeyRing
let p256: RingKey
let x25519: RingKey
let privateKeys: PrivateKeys
let certA: string
let certB: string
let senderA: Sender
let senderB: Sender

function makeCert(name: string): string {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
      '-days',
      '1',
      '-subj',
      `/CN=${name}`,
    ],
    { cwd: dir, stdio: 'pipe' },
  )
  return join(dir, `${name}.crt`)
}

/** What the gateway's client-identity middleware derives from a verified peer certificate. */
const senderOf = (pem: string): Sender => ({
  certThumbprint: new Uint8Array(
    Buffer.from(new X509Certificate(pem).fingerprint256.replaceAll(':', ''), 'hex'),
  ),
})

beforeAll(async () => {
  const made = await twoKeyRing()
  dir = made.dir
  ring = made.ring
  privateKeys = await privateKeysOf(dir)
  p256 = ring.keys.find((k) => k.crv === 'P-256')!
  x25519 = ring.keys.find((k) => k.crv === 'X25519')!
  certA = await readFile(makeCert('partner-a'), 'utf8')
  certB = await readFile(makeCert('partner-b'), 'utf8')
  senderA = senderOf(certA)
  senderB = senderOf(certB)
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

type Open = (token: string, sender?: Sender) => Promise<OpenedToken>
const native: Open = (token, sender) => openToken(token, ring, NOW, 'mbi', sender)
const withJose: Open = (token, sender) =>
  openJweWithJose(token, ring.resolve, NOW, privateKeys, 'mbi', sender)

async function refusal(open: Open, token: string, sender?: Sender): Promise<TokenError> {
  try {
    await open(token, sender)
  } catch (error) {
    if (!(error instanceof TokenError)) throw error
    return error
  }
  throw new Error('the token was accepted')
}

const codeOf = async (open: Open, token: string, sender?: Sender): Promise<TokenErrorCode> =>
  (await refusal(open, token, sender)).code

describe('the client certificate thumbprint', () => {
  it('is the SHA-256 of the DER, from PEM or DER, as node and RFC 8705 §3.1 compute it', () => {
    const der = new X509Certificate(certA).raw
    const expected = createHash('sha256').update(der).digest()
    expect(Buffer.from(certificateThumbprint(certA))).toEqual(expected)
    expect(Buffer.from(certificateThumbprint(new Uint8Array(der)))).toEqual(expected)
    expect(Buffer.from(senderA.certThumbprint!)).toEqual(expected)
  })

  it('refuses what is not a certificate', () => {
    expect(() => certificateThumbprint('not a certificate')).toThrow(TypeError)
    expect(() => certificateThumbprint(Uint8Array.of(1, 2, 3))).toThrow(TypeError)
  })
})

describe.each([
  ['native', () => native],
  ['jose reference', () => withJose],
] as const)('JWE x5t#S256, %s decrypt path', (_name, path) => {
  it('opens a bound token over the certificate it names, and says it was bound', async () => {
    const token = await encryptMbiJwe(MBI, p256.publicJwk, { bindCertificate: certA })
    const header = JSON.parse(unb64(token.split('.')[0]!).toString())
    expect(header['x5t#S256']).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const opened = await path()(token, senderA)
    expect(opened).toMatchObject({ mbi: MBI, binding: 'bound' })
  })

  it('refuses a bound token over another certificate, without one, and over plain HTTP alike', async () => {
    const token = await encryptMbiJwe(MBI, x25519.publicJwk, { bindCertificate: certA })
    const refusals = [
      await refusal(path(), token, senderB),
      await refusal(path(), token, { certThumbprint: undefined }),
      await refusal(path(), token),
    ]
    for (const r of refusals) {
      expect(r.code).toBe('ERR_TOKEN_SENDER_MISMATCH')
      expect(r.senderBound).toBe(true)
    }
    // One message, and nothing of either certificate in it.
    expect(new Set(refusals.map((r) => r.message)).size).toBe(1)
    const a = Buffer.from(senderA.certThumbprint!)
    for (const spelling of [a.toString('base64url'), a.toString('hex'), a.toString('base64')]) {
      expect(refusals[0]!.message).not.toContain(spelling)
    }
  })

  it('opens an unbound token over any connection and says it was not bound', async () => {
    const token = await encryptMbiJwe(MBI, p256.publicJwk)
    expect(await path()(token, senderB)).toMatchObject({ binding: 'unbound' })
    expect(await path()(token)).toMatchObject({ binding: 'unbound' })
  })

  it('fails decryption when the binding is rewritten to another certificate (it is in the AAD)', async () => {
    const token = await encryptMbiJwe(MBI, p256.publicJwk, { bindCertificate: certA })
    const moved = reheader(token, (h) => {
      h['x5t#S256'] = b64(senderB.certThumbprint!)
    })
    expect(await codeOf(path(), moved, senderB)).toBe('ERR_TOKEN_DECRYPTION_FAILED')
    const stripped = reheader(token, (h) => {
      delete h['x5t#S256']
    })
    expect(await codeOf(path(), stripped, senderB)).toBe('ERR_TOKEN_DECRYPTION_FAILED')
  })

  it('refuses malformed, wrong-length and oversized binding members before any key is used', async () => {
    const token = await encryptMbiJwe(MBI, p256.publicJwk, { bindCertificate: certA })
    const good = b64(senderA.certThumbprint!)
    // The last character of 32 bytes in base64url carries 2 unused bits: set one.
    const last = good.at(-1)!
    const nonCanonical = good.slice(0, -1) + (last === 'A' ? 'B' : last === 'B' ? 'C' : 'B')
    const bad: unknown[] = [
      good.slice(0, 42),
      good + 'A',
      b64(new Uint8Array(48)),
      good.slice(0, 42) + '=',
      good.slice(0, 41) + '+/',
      nonCanonical,
      '',
      null,
      32,
      [good],
      { 'x5t#S256': good },
      'A'.repeat(300), // over the header cap, under the token cap
    ]
    for (const value of bad) {
      const t = reheader(token, (h) => {
        h['x5t#S256'] = value
      })
      // The value rides along so that a failure names the input that got through.
      expect([value, await codeOf(path(), t, senderA)]).toEqual([value, 'ERR_TOKEN_MALFORMED'])
    }
  })

  it('refuses a header that names x5t#S256 twice, whichever copy would match', async () => {
    const token = await encryptMbiJwe(MBI, p256.publicJwk, { bindCertificate: certA })
    const [head, ...rest] = token.split('.')
    const json = unb64(head!).toString()
    const a = b64(senderA.certThumbprint!)
    const bb = b64(senderB.certThumbprint!)
    for (const duplicated of [
      json.replace('{', `{"x5t#S256":"${bb}",`),
      json.replace(/}$/, `,"x5t#S256":"${bb}"}`),
      json.replace(/}$/, `,"x5t\\u0023S256":"${a}"}`),
    ]) {
      const t = [b64(duplicated), ...rest].join('.')
      expect(await codeOf(path(), t, senderA)).toBe('ERR_TOKEN_MALFORMED')
      expect(await codeOf(path(), t, senderB)).toBe('ERR_TOKEN_MALFORMED')
    }
  })
})

describe('top-level JSON member names', () => {
  it('lists names at the top level only, decoding escapes, keeping duplicates', () => {
    const json = '{"a":1,"b":{"a":2,"c":"}\\"x"},"d\\u0023":["e",{"f":1}],"a" : 3}'
    expect(topLevelMemberNames(json)).toEqual(['a', 'b', 'd#', 'a'])
    expect(hasDuplicateMember(json)).toBe(true)
    expect(hasDuplicateMember('{"a":"a","b":["a","a"]}')).toBe(false)
  })
})

describe.each(['P-256', 'X25519'] as const)('HPKE version 3 (bound) to a %s key', (crv) => {
  const key = () => (crv === 'P-256' ? p256 : x25519)

  it('opens over the certificate it was bound to, at the length of an unbound token', async () => {
    const bound = await encryptMbiHpke(MBI, key().publicJwk, { bindCertificate: certA })
    const unbound = await encryptMbiHpke(MBI, key().publicJwk)
    expect(bound.length).toBe(unbound.length)
    expect(unb64(bound)[0]).toBe(0x03)
    expect(await native(bound, senderA)).toMatchObject({ mbi: MBI, binding: 'bound' })
    expect(await native(unbound, senderA)).toMatchObject({ binding: 'unbound' })
  })

  it('fails as decryption failed over another certificate, and is refused without one', async () => {
    const bound = await encryptMbiHpke(MBI, key().publicJwk, { bindCertificate: certA })
    const other = await refusal(native, bound, senderB)
    expect(other.code).toBe('ERR_TOKEN_DECRYPTION_FAILED')
    expect(other.senderBound).toBe(true)
    expect(await codeOf(native, bound)).toBe('ERR_TOKEN_SENDER_MISMATCH')
  })

  it('cannot be turned into an unbound token by rewriting the version byte', async () => {
    const bound = unb64(await encryptMbiHpke(MBI, key().publicJwk, { bindCertificate: certA }))
    bound[0] = 0x02
    expect(await codeOf(native, b64(bound), senderA)).toBe('ERR_TOKEN_DECRYPTION_FAILED')
    const unbound = unb64(await encryptMbiHpke(MBI, key().publicJwk))
    unbound[0] = 0x03
    expect(await codeOf(native, b64(unbound), senderA)).toBe('ERR_TOKEN_DECRYPTION_FAILED')
  })

  it('interoperates with the Python cryptography sealer: opens over A, refused over B', async () => {
    const jwks = join(dir, `jwks-${crv}.json`)
    await writeFile(jwks, JSON.stringify({ keys: [key().publicJwk] }))
    // The DER form of the certificate, to exercise the script's other input.
    const der = join(dir, 'partner-a.der')
    await writeFile(der, new X509Certificate(certA).raw)
    for (const cert of [join(dir, 'partner-a.crt'), der]) {
      const token = await new Promise<string>((resolve, reject) => {
        const child = execFile(
          '/usr/bin/python3',
          ['-I', '-B', join(SCRIPTS, 'hpke_encrypt.py'), jwks, `--bind-cert=${cert}`],
          { timeout: 60_000 },
          (error, stdout, stderr) => (error ? reject(new Error(stderr)) : resolve(stdout.trim())),
        )
        child.stdin!.end(MBI)
      })
      expect(unb64(token)[0]).toBe(0x03)
      expect(await native(token, senderA)).toMatchObject({ mbi: MBI, binding: 'bound' })
      expect(await codeOf(native, token, senderB)).toBe('ERR_TOKEN_DECRYPTION_FAILED')
    }
  })
})

describe('the binding policy', () => {
  it('refuses unbound tokens when every token must be bound, or this client must bind', () => {
    const refused = (f: () => void) => {
      try {
        f()
      } catch (error) {
        return (error as TokenError).code
      }
      return 'accepted'
    }
    expect(refused(() => enforceBinding('unbound', senderA, true))).toBe(
      'ERR_TOKEN_BINDING_REQUIRED',
    )
    expect(refused(() => enforceBinding('unbound', { ...senderA, mustBind: true }, false))).toBe(
      'ERR_TOKEN_BINDING_REQUIRED',
    )
    expect(refused(() => enforceBinding('unbound', senderA, false))).toBe('accepted')
    expect(refused(() => enforceBinding('bound', { ...senderA, mustBind: true }, true))).toBe(
      'accepted',
    )
  })
})
