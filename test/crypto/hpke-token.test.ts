import { readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { concatBytes } from '@noble/hashes/utils.js'
import { beforeAll, describe, expect, it } from 'vitest'
import { encryptMbiHpke } from '@sealed-search/client'
import { TokenError, type TokenErrorCode } from '../../src/crypto/errors.js'
import { encodeHeader, HEADER_LENGTH, tokenInfo } from '../../src/crypto/hpke/framing.js'
import { cipherSuite, sealBase } from '../../src/crypto/hpke/setup.js'
import { MAX_HPKE_TOKEN_LENGTH } from '../../src/crypto/hpke-token.js'
import { openToken } from '../../src/crypto/token.js'
import { SYNTHETIC_MBI_CAPACITY, syntheticMbi } from '../../src/identifiers/synthetic.js'
import { addGeneratedKey } from '../../src/keys/custody/bootstrap.js'
import { KeyRing } from '../../src/keys/ring/keyring.js'
import { ringKeyFromPrivateJwk, type RingKey } from '../../src/keys/ring/ring-key.js'
import { loadKeyRing } from '../../src/keys/ring/open-key.js'
import { tempDir, twoKeyRing } from '../support/keys.js'
import rfc from '../vectors/rfc9180-base-mode.json' with { type: 'json' }

const MBI = '1S00E00AA00'
const NOW = new Date('2026-06-01T12:00:00Z')
const NOW_MS = NOW.getTime()

let ring: KeyRing
let p256: RingKey
let x25519: RingKey
const keyFor = (crv: 'P-256' | 'X25519') => (crv === 'P-256' ? p256 : x25519)

beforeAll(async () => {
  ring = (await twoKeyRing()).ring
  p256 = ring.keys.find((k) => k.crv === 'P-256')!
  x25519 = ring.keys.find((k) => k.crv === 'X25519')!
})

const bytesOf = (token: string) => new Uint8Array(Buffer.from(token, 'base64url'))
const tokenOf = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url')

async function refusal(token: string, at = NOW, r = ring): Promise<TokenErrorCode> {
  try {
    await openToken(token, r, at)
  } catch (error) {
    if (!(error instanceof TokenError)) throw error
    return error.code
  }
  throw new Error('the token was accepted')
}

/** A token for `key` with header bytes rewritten after sealing (so AAD and info no longer match). */
function rewrite(token: string, edit: (bytes: Uint8Array) => void): string {
  const bytes = bytesOf(token)
  edit(bytes)
  return tokenOf(bytes)
}

const kidBytes = (key: RingKey) => new Uint8Array(Buffer.from(key.kid, 'base64url'))
const idBytes = (key: RingKey) => Uint8Array.of(key.hpkeKeyId! >> 8, key.hpkeKeyId! & 0xff)

describe.each(['P-256', 'X25519'] as const)('HPKE tokens to a %s key', (crv) => {
  it('opens a token carrying the bare MBI', async () => {
    const key = keyFor(crv)
    const token = await encryptMbiHpke(MBI, key.publicJwk)
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/)
    const opened = await openToken(token, ring, NOW)
    expect(opened).toMatchObject({ mbi: MBI, kid: key.kid, format: 'hpke' })
  })

  it('opens a token carrying {"mbi","iat","exp"} claims and enforces exp', async () => {
    const key = keyFor(crv)
    const token = await encryptMbiHpke(MBI, key.publicJwk, { ttlSeconds: 300, now: () => NOW_MS })
    const opened = await openToken(token, ring, NOW)
    expect(opened).toMatchObject({ mbi: MBI, iat: NOW_MS / 1000, exp: NOW_MS / 1000 + 300 })
    expect(await refusal(token, new Date(NOW_MS + 3_600_000))).toBe('ERR_TOKEN_EXPIRED')
  })

  it('normalises the dashed print form before encrypting', async () => {
    const token = await encryptMbiHpke('1s00-e00-aa00', keyFor(crv).publicJwk)
    expect((await openToken(token, ring, NOW)).mbi).toBe(MBI)
  })

  it('has the length docs/TOKENS.md gives', async () => {
    const key = keyFor(crv)
    const bare = await encryptMbiHpke(MBI, key.publicJwk)
    const claims = await encryptMbiHpke(MBI, key.publicJwk, { ttlSeconds: 300, now: () => NOW_MS })
    expect([bare.length, claims.length]).toEqual(crv === 'P-256' ? [135, 194] : [91, 150])
    expect(claims.length).toBeLessThan(MAX_HPKE_TOKEN_LENGTH)
  })

  it('round-trips any synthetic MBI', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: SYNTHETIC_MBI_CAPACITY - 1 }),
        fc.boolean(),
        async (index, withClaims) => {
          const mbi = syntheticMbi(index)
          const options = withClaims ? { ttlSeconds: 60, now: () => NOW_MS } : {}
          const token = await encryptMbiHpke(mbi, keyFor(crv).publicJwk, options)
          expect((await openToken(token, ring, NOW)).mbi).toBe(mbi)
        },
      ),
      { numRuns: 40 },
    )
  })

  it('refuses a token with any single bit of its bytes flipped', async () => {
    const token = await encryptMbiHpke(MBI, keyFor(crv).publicJwk)
    const length = bytesOf(token).length
    for (let bit = 0; bit < length * 8; bit += 1) {
      const flipped = rewrite(token, (b) => (b[bit >> 3]! ^= 1 << (bit & 7)))
      await expect(openToken(flipped, ring, NOW)).rejects.toBeInstanceOf(TokenError)
    }
  })

  it('refuses a token with a bit of one of its characters flipped', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: SYNTHETIC_MBI_CAPACITY - 1 }),
        fc.nat(),
        fc.integer({ min: 0, max: 6 }),
        async (index, at, bit) => {
          const token = await encryptMbiHpke(syntheticMbi(index), keyFor(crv).publicJwk)
          const i = at % token.length
          const char = String.fromCharCode(token.charCodeAt(i) ^ (1 << bit))
          const flipped = token.slice(0, i) + char + token.slice(i + 1)
          await expect(openToken(flipped, ring, NOW)).rejects.toBeInstanceOf(TokenError)
        },
      ),
      { numRuns: 100 },
    )
  })
})

describe('HPKE tokens that are refused', () => {
  it('refuses a token for key A whose key id is swapped to key B of the other curve', async () => {
    const token = await encryptMbiHpke(MBI, p256.publicJwk)
    const swapped = rewrite(token, (b) => b.set(idBytes(x25519), 1))
    expect(await refusal(swapped)).toBe('ERR_TOKEN_KEM_MISMATCH')
  })

  it('refuses a token for key A whose key id is swapped to key B of the same curve', async () => {
    const dir = await tempDir('sealed-keys-')
    await addGeneratedKey(dir, 'X25519')
    await addGeneratedKey(dir, 'X25519')
    const sameCurve = await loadKeyRing(dir)
    const [a, b] = sameCurve.keys as [RingKey, RingKey]
    const token = await encryptMbiHpke(MBI, a.publicJwk)
    expect((await openToken(token, sameCurve, NOW)).kid).toBe(a.kid)
    const swapped = rewrite(token, (bytes) => bytes.set(idBytes(b), 1))
    expect(await refusal(swapped, NOW, sameCurve)).toBe('ERR_TOKEN_DECRYPTION_FAILED')
  })

  it('refuses a token sealed for another purpose (a different info label)', async () => {
    const suite = cipherSuite(0x0020, 0x0001, 0x0001)
    const header = encodeHeader({ keyId: x25519.hpkeKeyId!, kemId: 0x20, kdfId: 1, aeadId: 1 })
    const pkR = new Uint8Array(Buffer.from(x25519.publicJwk.x, 'base64url'))
    const pt = new TextEncoder().encode(MBI)
    const seal = async (info: Uint8Array, aad: Uint8Array) => {
      const { enc, ciphertext } = await sealBase(suite, pkR, info, aad, pt)
      return tokenOf(concatBytes(header, enc, ciphertext))
    }
    const info = tokenInfo(header, kidBytes(x25519))
    // The control: the gateway's own info and AAD open.
    expect((await openToken(await seal(info, header), ring, NOW)).mbi).toBe(MBI)
    const otherLabel = concatBytes(new TextEncoder().encode('another purpose v1'), Uint8Array.of(0))
    const otherInfo = concatBytes(otherLabel, header, kidBytes(x25519))
    expect(await refusal(await seal(otherInfo, header))).toBe('ERR_TOKEN_DECRYPTION_FAILED')
    expect(await refusal(await seal(info, new Uint8Array(0)))).toBe('ERR_TOKEN_DECRYPTION_FAILED')
  })

  it("refuses a token whose info binds another key's thumbprint than the key its id names", async () => {
    const suite = cipherSuite(0x0020, 0x0001, 0x0001)
    const header = encodeHeader({ keyId: x25519.hpkeKeyId!, kemId: 0x20, kdfId: 1, aeadId: 1 })
    const pkR = new Uint8Array(Buffer.from(x25519.publicJwk.x, 'base64url'))
    const info = tokenInfo(header, kidBytes(p256))
    const { enc, ciphertext } = await sealBase(
      suite,
      pkR,
      info,
      header,
      new TextEncoder().encode(MBI),
    )
    expect(await refusal(tokenOf(concatBytes(header, enc, ciphertext)))).toBe(
      'ERR_TOKEN_DECRYPTION_FAILED',
    )
  })

  it('names keys by the assigned id only: an id shared by two ring keys names neither', async () => {
    const token = await encryptMbiHpke(MBI, x25519.publicJwk)
    const twin = { ...p256, kid: 'twin', hpkeKeyId: x25519.hpkeKeyId }
    expect(await refusal(token, NOW, new KeyRing([x25519, twin]))).toBe('ERR_TOKEN_KID_UNKNOWN')
    expect((await openToken(token, new KeyRing([x25519, p256]), NOW)).kid).toBe(x25519.kid)
  })

  it('refuses a key id the ring does not hold, and a key it no longer accepts', async () => {
    const token = await encryptMbiHpke(MBI, p256.publicJwk)
    expect(await refusal(token, NOW, new KeyRing([x25519]))).toBe('ERR_TOKEN_KID_UNKNOWN')
    const retired = new KeyRing([{ ...p256, state: 'retired' }])
    expect(await refusal(token, NOW, retired)).toBe('ERR_TOKEN_KEY_NOT_ACCEPTED')
    const retiring = new KeyRing([{ ...p256, state: 'retiring', notAfter: '2026-06-02T00:00:00Z' }])
    expect((await openToken(token, retiring, NOW)).mbi).toBe(MBI)
  })

  it.each([
    ['an unknown KEM', 3, 0x00, 0x11],
    ['DHKEM(X448)', 3, 0x00, 0x21],
    ['HKDF-SHA512', 5, 0x00, 0x03],
    ['AES-256-GCM', 7, 0x00, 0x02],
    ['ChaCha20Poly1305', 7, 0x00, 0x03],
  ])('refuses a token whose suite names %s', async (_, at, high, low) => {
    const token = await encryptMbiHpke(MBI, x25519.publicJwk)
    expect(await refusal(rewrite(token, (b) => b.set([high, low], at)))).toBe(
      'ERR_TOKEN_SUITE_UNSUPPORTED',
    )
  })

  it('refuses a version other than 2 and 3 (bound), including the undeployed version 1 draft', async () => {
    const token = await encryptMbiHpke(MBI, x25519.publicJwk)
    expect(bytesOf(token)[0]).toBe(0x02)
    for (const version of [0x00, 0x01, 0x04, 0x82, 0xff]) {
      expect(await refusal(rewrite(token, (b) => (b[0] = version)))).toBe(
        'ERR_TOKEN_FORMAT_UNSUPPORTED',
      )
    }
  })

  it('refuses tokens too short to hold header, enc, tag and one byte', async () => {
    const token = await encryptMbiHpke(MBI, x25519.publicJwk)
    const bytes = bytesOf(token)
    for (const length of [1, HEADER_LENGTH - 1, HEADER_LENGTH, HEADER_LENGTH + 32 + 16]) {
      expect(await refusal(tokenOf(bytes.subarray(0, length)))).toBe('ERR_TOKEN_MALFORMED')
    }
  })

  it('refuses a token over the HPKE length cap before decoding it', async () => {
    expect(await refusal('A'.repeat(MAX_HPKE_TOKEN_LENGTH + 1))).toBe('ERR_TOKEN_TOO_LONG')
  })

  it('refuses a non-canonical base64url spelling of a valid token', async () => {
    let token = await encryptMbiHpke(MBI, x25519.publicJwk)
    while (token.length % 4 === 0) token = await encryptMbiHpke(MBI, x25519.publicJwk)
    const last = token.at(-1)!
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const sibling = alphabet[alphabet.indexOf(last) ^ 1]!
    expect(await refusal(token.slice(0, -1) + sibling)).toBe('ERR_TOKEN_MALFORMED')
  })

  it('never throws anything but a TokenError for an arbitrary string', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 400 }),
          fc.string({ unit: 'binary', maxLength: 200 }),
          fc.uint8Array({ maxLength: 240 }).map(tokenOf),
        ),
        async (text) => {
          await expect(openToken(text, ring, NOW)).rejects.toBeInstanceOf(TokenError)
        },
      ),
      { numRuns: 500 },
    )
  })

  it('never throws anything but a TokenError for random bytes behind a valid header', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(p256, x25519),
        fc.uint8Array({ maxLength: 200 }),
        async (key, body) => {
          const kemId = key.crv === 'P-256' ? 0x10 : 0x20
          const header = encodeHeader({ keyId: key.hpkeKeyId!, kemId, kdfId: 1, aeadId: 1 })
          const token = tokenOf(concatBytes(header, body))
          await expect(openToken(token, ring, NOW)).rejects.toBeInstanceOf(TokenError)
        },
      ),
      { numRuns: 200 },
    )
  })
})

describe('the HPKE client', () => {
  it('refuses a key whose kid is not a full 32-byte thumbprint', async () => {
    const short = { ...x25519.publicJwk, kid: x25519.kid.slice(0, 11) }
    await expect(encryptMbiHpke(MBI, short)).rejects.toThrow(TypeError)
  })

  it.each([undefined, 0, 65536, 1.5, -1, '1'])(
    'refuses a key whose hpke_key_id is %s',
    async (id) => {
      const jwk = { ...x25519.publicJwk, hpke_key_id: id as number | undefined }
      await expect(encryptMbiHpke(MBI, jwk)).rejects.toThrow(/hpke_key_id/)
    },
  )

  it('carries the hpke_key_id of the JWK in bytes 1 and 2 of the token', async () => {
    const token = await encryptMbiHpke(MBI, { ...x25519.publicJwk, hpke_key_id: 0x1234 })
    expect([...bytesOf(token).subarray(0, 3)]).toEqual([0x02, 0x12, 0x34])
  })

  it.each([0, -60, 1.5, Number.NaN])('refuses a ttlSeconds of %s', async (ttlSeconds) => {
    await expect(encryptMbiHpke(MBI, x25519.publicJwk, { ttlSeconds })).rejects.toThrow(TypeError)
  })

  it('refuses a malformed MBI without encrypting anything', async () => {
    await expect(encryptMbiHpke('1S00E00AA0', x25519.publicJwk)).rejects.toThrow(TypeError)
  })

  it('opens the example in docs/TOKENS.md with the RFC 9180 A.1.1 recipient key', async () => {
    const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
    const doc = readFileSync(join(root, 'docs/TOKENS.md'), 'utf8')
    const token = /<!-- example-token -->\s*```\s*([A-Za-z0-9_-]+)\s*```/.exec(doc)?.[1]
    const a11 = rfc.vectors.find((v) => v.section === 'A.1.1')!
    const b64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64url')
    const jwk = { kty: 'OKP', crv: 'X25519', x: b64(a11.pkRm) } as const
    const kid = '11SSte3NhHvq-P2NW_IgQcfR0ItQyShY-yKJQVMVmsI'
    const key: RingKey = ringKeyFromPrivateJwk(
      {
        kid,
        crv: 'X25519',
        state: 'active',
        created: '2026-01-01T00:00:00Z',
        notAfter: null,
        hpkeKeyId: 1,
        publicJwk: { ...jwk, kid, use: 'enc', hpke_key_id: 1 },
      },
      { ...jwk, d: b64(a11.skRm), kid },
    )
    expect(token).toBeDefined()
    expect((await openToken(token!, new KeyRing([key]), NOW)).mbi).toBe(MBI)
  })

  it('builds tokens from modules that use neither Buffer nor node: imports', () => {
    const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
    const seen = new Set<string>()
    const visit = (file: string) => {
      if (seen.has(file)) return
      seen.add(file)
      const source = readFileSync(file, 'utf8')
      expect(source, file).not.toMatch(/\bBuffer\b|from 'node:|process\./)
      for (const [, spec] of source.matchAll(/from '(\.{1,2}\/[^']+)\.js'/g)) {
        visit(join(dirname(file), `${spec}.ts`))
      }
    }
    visit(join(root, 'packages/client/src/hpke.ts'))
    expect(seen.size).toBeGreaterThan(5)
  })
})
