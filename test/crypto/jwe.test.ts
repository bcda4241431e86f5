import { beforeAll, describe, expect, it } from 'vitest'
import { encryptMbiJwe } from '@sealed-search/client'
import { TokenError, type TokenErrorCode } from '../../src/crypto/errors.js'
import { MAX_TOKEN_LENGTH, openToken } from '../../src/crypto/token.js'
import { KeyRing } from '../../src/keys/ring/keyring.js'
import type { RingKey } from '../../src/keys/ring/ring-key.js'
import { b64, flipBit, jweFor, replaceSegment, reheader, unb64 } from '../support/tokens.js'
import { twoKeyRing } from '../support/keys.js'

const MBI = '1S00E00AA00'
const NOW = new Date('2026-06-01T12:00:00Z')
const NOW_S = NOW.getTime() / 1000

let ring: KeyRing
let p256: RingKey
let x25519: RingKey

beforeAll(async () => {
  ring = (await twoKeyRing()).ring
  p256 = ring.keys.find((k) => k.crv === 'P-256')!
  x25519 = ring.keys.find((k) => k.crv === 'X25519')!
})

async function refusal(token: string, at = NOW, r = ring): Promise<TokenErrorCode> {
  try {
    await openToken(token, r, at)
  } catch (error) {
    expect(error).toBeInstanceOf(TokenError)
    return (error as TokenError).code
  }
  throw new Error('the token was accepted')
}

describe('JWE tokens that are accepted', () => {
  it.each([
    ['P-256', 'ECDH-ES', 'A256GCM'],
    ['P-256', 'ECDH-ES', 'A128GCM'],
    ['P-256', 'ECDH-ES+A256KW', 'A256GCM'],
    ['P-256', 'ECDH-ES+A256KW', 'A128GCM'],
    ['X25519', 'ECDH-ES', 'A256GCM'],
    ['X25519', 'ECDH-ES+A256KW', 'A256GCM'],
  ] as const)('decrypts a %s %s %s token to the MBI', async (crv, alg, enc) => {
    const key = crv === 'P-256' ? p256 : x25519
    const token = await encryptMbiJwe(MBI, key.publicJwk, { alg, enc })
    const opened = await openToken(token, ring, NOW)
    expect(opened).toMatchObject({ mbi: MBI, kid: key.kid, alg, enc, format: 'jwe' })
  })

  it('normalises a dashed lower-case MBI in the payload', async () => {
    const token = await jweFor(p256, '1eg4-te5-mk73')
    expect((await openToken(token, ring, NOW)).mbi).toBe('1EG4TE5MK73')
  })

  it('accepts the claims form and reports its exp', async () => {
    const token = await encryptMbiJwe(MBI, p256.publicJwk, {
      ttlSeconds: 300,
      now: () => NOW.getTime(),
    })
    expect(await openToken(token, ring, NOW)).toMatchObject({ mbi: MBI, exp: NOW_S + 300 })
  })

  it('accepts a retiring key before its notAfter', async () => {
    const retiring = new KeyRing([{ ...p256, state: 'retiring', notAfter: '2026-06-02T00:00:00Z' }])
    const token = await jweFor(p256, MBI)
    expect((await openToken(token, retiring, NOW)).mbi).toBe(MBI)
  })
})

describe('JWE tokens that are refused', () => {
  it('refuses a token over the length cap before parsing it', async () => {
    expect(await refusal('x'.repeat(MAX_TOKEN_LENGTH + 1))).toBe('ERR_TOKEN_TOO_LONG')
  })

  it('refuses an empty token', async () => {
    expect(await refusal('')).toBe('ERR_TOKEN_MALFORMED')
  })

  it('refuses a JWS (three segments) where a JWE is expected', async () => {
    const jws = `${b64('{"alg":"HS256"}')}.${b64(MBI)}.${b64('sig')}`
    expect(await refusal(jws)).toBe('ERR_TOKEN_FORMAT_UNSUPPORTED')
  })

  it.each([
    'none',
    'dir',
    'RSA-OAEP',
    'RSA-OAEP-256',
    'RSA1_5',
    'A256KW',
    'PBES2-HS256+A128KW',
    'ECDH-ES+A128KW',
    'HS256',
  ])('refuses alg %s', async (alg) => {
    const token = reheader(await jweFor(p256, MBI), (h) => (h.alg = alg))
    expect(await refusal(token)).toBe('ERR_TOKEN_ALG_UNSUPPORTED')
  })

  it.each(['A192GCM', 'A128CBC-HS256', 'A256CBC-HS512', 'none'])('refuses enc %s', async (enc) => {
    const token = reheader(await jweFor(p256, MBI), (h) => (h.enc = enc))
    expect(await refusal(token)).toBe('ERR_TOKEN_ENC_UNSUPPORTED')
  })

  it.each([
    ['zip', 'DEF'],
    ['crit', ['exp']],
    ['jku', 'https://attacker.example/jwks.json'],
    ['jwk', { kty: 'EC' }],
    ['x5u', 'https://attacker.example/cert.pem'],
    ['x5c', ['MIIB']],
    ['x5t', 'abc'],
    ['p2s', 'abc'],
    ['unknown', 1],
  ])('refuses a %s header parameter', async (name, value) => {
    const token = reheader(await jweFor(p256, MBI), (h) => (h[name] = value))
    expect(await refusal(token)).toBe('ERR_TOKEN_HEADER_UNSUPPORTED')
  })

  it('refuses a token without kid', async () => {
    const token = reheader(await jweFor(p256, MBI), (h) => delete h.kid)
    expect(await refusal(token)).toBe('ERR_TOKEN_KID_MISSING')
  })

  it('refuses a token whose kid is unknown', async () => {
    const token = reheader(await jweFor(p256, MBI), (h) => (h.kid = 'not-a-key'))
    expect(await refusal(token)).toBe('ERR_TOKEN_KID_UNKNOWN')
  })

  it.each(['retired', 'revoked'] as const)('refuses a token whose kid is %s', async (state) => {
    const r = new KeyRing([{ ...p256, state }])
    expect(await refusal(await jweFor(p256, MBI), NOW, r)).toBe('ERR_TOKEN_KEY_NOT_ACCEPTED')
  })

  it('refuses a retiring key after its notAfter', async () => {
    const r = new KeyRing([{ ...p256, state: 'retiring', notAfter: '2026-06-01T00:00:00Z' }])
    expect(await refusal(await jweFor(p256, MBI), NOW, r)).toBe('ERR_TOKEN_KEY_NOT_ACCEPTED')
  })

  it('refuses an epk on another curve than the key named by kid', async () => {
    const token = reheader(await jweFor(x25519, MBI), (h) => (h.kid = p256.kid))
    expect(await refusal(token)).toBe('ERR_TOKEN_EPK_INVALID')
  })

  it('refuses an epk that carries a private member', async () => {
    const token = reheader(await jweFor(p256, MBI), (h) => {
      ;(h.epk as Record<string, unknown>).d = 'A'.repeat(43)
    })
    expect(await refusal(token)).toBe('ERR_TOKEN_EPK_INVALID')
  })

  it('refuses a P-256 epk point that is not on the curve', async () => {
    const token = reheader(await jweFor(p256, MBI), (h) => {
      const epk = h.epk as { y: string }
      const y = unb64(epk.y)
      y[31]! ^= 1
      epk.y = b64(y)
    })
    expect(await refusal(token)).toBe('ERR_TOKEN_DECRYPTION_FAILED')
  })

  // RFC 7748 §6.1 / Wycheproof x25519 "low order" cases: the shared secret would be all zero.
  it.each([
    ['zero', '0000000000000000000000000000000000000000000000000000000000000000'],
    ['one', '0100000000000000000000000000000000000000000000000000000000000000'],
    ['order 8', 'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800'],
    ['order 8 (second)', '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157'],
    ['p - 1', 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'],
  ])('refuses a low-order X25519 epk (%s)', async (_name, hex) => {
    const token = reheader(await jweFor(x25519, MBI), (h) => {
      ;(h.epk as { x: string }).x = b64(Buffer.from(hex, 'hex'))
    })
    expect(await refusal(token)).toBe('ERR_TOKEN_DECRYPTION_FAILED')
  })

  it.each([
    ['the protected header', 0],
    ['the IV', 2],
    ['the ciphertext', 3],
    ['the tag', 4],
  ])('refuses a token with a bit flipped in %s', async (_what, segment) => {
    const token = await jweFor(p256, MBI, { apu: b64('partner') })
    // For the header, flip a bit inside the apu value so the header still parses.
    const tampered =
      segment === 0 ? reheader(token, (h) => (h.apu = b64('partnes'))) : flipBit(token, segment, 5)
    expect(await refusal(tampered)).toBe('ERR_TOKEN_DECRYPTION_FAILED')
  })

  it('refuses a tampered wrapped key (ECDH-ES+A256KW) as a decryption failure', async () => {
    const token = await jweFor(p256, MBI, { alg: 'ECDH-ES+A256KW' })
    expect(await refusal(flipBit(token, 1, 3))).toBe('ERR_TOKEN_DECRYPTION_FAILED')
  })

  it('refuses an encrypted key in a direct ECDH-ES token', async () => {
    const token = replaceSegment(await jweFor(p256, MBI), 1, b64(new Uint8Array(40)))
    expect(await refusal(token)).toBe('ERR_TOKEN_MALFORMED')
  })

  it.each([
    ['a short IV', 2, b64(new Uint8Array(8))],
    ['a short tag', 4, b64(new Uint8Array(8))],
    ['an empty ciphertext', 3, ''],
    ['invalid base64url', 3, 'abc$def'],
    ['padded base64url', 4, 'AAAAAAAAAAAAAAAAAAAAAA=='],
  ])('refuses %s', async (_what, segment, value) => {
    expect(await refusal(replaceSegment(await jweFor(p256, MBI), segment, value))).toBe(
      'ERR_TOKEN_MALFORMED',
    )
  })

  it.each([
    ['not base64url', '!!!'],
    ['not JSON', b64('not json')],
    ['a JSON array', b64('[1,2]')],
    ['JSON null', b64('null')],
    ['invalid UTF-8', b64(new Uint8Array([0xff, 0xfe, 0x7b]))],
  ])('refuses a protected header that is %s', async (_what, header) => {
    expect(await refusal(replaceSegment(await jweFor(p256, MBI), 0, header))).toBe(
      'ERR_TOKEN_MALFORMED',
    )
  })

  it.each([
    ['a non-MBI string', 'hello world', 'ERR_TOKEN_IDENTIFIER_INVALID'],
    ['an over-long plaintext', MBI.repeat(20), 'ERR_TOKEN_IDENTIFIER_INVALID'],
    ['an MBI with a trailing space', `${MBI} `, 'ERR_TOKEN_IDENTIFIER_INVALID'],
    [
      'claims with an unknown member',
      JSON.stringify({ mbi: MBI, sub: 'x' }),
      'ERR_TOKEN_CLAIMS_INVALID',
    ],
    ['claims without mbi', JSON.stringify({ exp: NOW_S + 60 }), 'ERR_TOKEN_CLAIMS_INVALID'],
    ['claims with a non-MBI mbi', JSON.stringify({ mbi: '123' }), 'ERR_TOKEN_IDENTIFIER_INVALID'],
    [
      'claims with a string exp',
      JSON.stringify({ mbi: MBI, exp: 'tomorrow' }),
      'ERR_TOKEN_CLAIMS_INVALID',
    ],
    ['an expired exp', JSON.stringify({ mbi: MBI, exp: NOW_S - 120 }), 'ERR_TOKEN_EXPIRED'],
    [
      'an iat in the future',
      JSON.stringify({ mbi: MBI, iat: NOW_S + 3600 }),
      'ERR_TOKEN_NOT_YET_VALID',
    ],
    ['broken JSON', '{"mbi":', 'ERR_TOKEN_CLAIMS_INVALID'],
  ])('refuses a payload that is %s', async (_what, plaintext, code) => {
    expect(await refusal(await jweFor(p256, plaintext))).toBe(code)
  })

  it('accepts an exp within the clock leeway', async () => {
    const token = await jweFor(p256, JSON.stringify({ mbi: MBI, exp: NOW_S - 30 }))
    expect((await openToken(token, ring, NOW)).mbi).toBe(MBI)
  })

  it('gives every post-agreement failure the same message (RFC 7516 §11.5)', async () => {
    const token = await jweFor(p256, MBI)
    const messages = new Set<string>()
    for (const t of [flipBit(token, 2, 1), flipBit(token, 3, 1), flipBit(token, 4, 1)]) {
      try {
        await openToken(t, ring, NOW)
      } catch (e) {
        messages.add((e as Error).message)
      }
    }
    expect([...messages]).toEqual(['decryption failed'])
  })
})
