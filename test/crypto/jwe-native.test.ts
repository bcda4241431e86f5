import { createPrivateKey, createPublicKey, diffieHellman } from 'node:crypto'
import type * as NodeCrypto from 'node:crypto'
import fc from 'fast-check'
import { CompactEncrypt, importJWK } from 'jose'
import { beforeAll, describe, expect, it, vi } from 'vitest'
import { concatKdf, otherInfo } from '../../src/crypto/concat-kdf.js'
import { TokenError } from '../../src/crypto/errors.js'
import { openJwe } from '../../src/crypto/jwe.js'
import { syntheticMbi, SYNTHETIC_MBI_CAPACITY } from '../../src/identifiers/synthetic.js'
import { thumbprint, toPublicJwk, type PrivateJwk } from '../../src/keys/jwk.js'
import { KeyRing } from '../../src/keys/ring/keyring.js'
import { ringKeyFromPrivateJwk, type RingKey } from '../../src/keys/ring/ring-key.js'
import { openJweWithJose, privateKeysOf, type PrivateKeys } from '../support/jose-reference.js'
import { sealJwe, ephemeralAgreement } from '../support/jwe-seal.js'
import { twoKeyRing } from '../support/keys.js'
import { b64, unb64 } from '../support/tokens.js'
import vector from '../vectors/rfc7518-appendix-c.json' with { type: 'json' }

// OpenSSL 3 already refuses an all-zero X25519 output; this switch makes diffieHellman return
// one anyway, to show that the native path's own check (RFC 7748 §6.1) refuses it too.
const allZeroAgreement = vi.hoisted(() => ({ on: false }))
vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof NodeCrypto>()
  return {
    ...real,
    diffieHellman: (options: Parameters<typeof real.diffieHellman>[0]) =>
      allZeroAgreement.on ? Buffer.alloc(32) : real.diffieHellman(options),
  }
})

const NOW = new Date('2026-06-01T12:00:00Z')
const NOW_S = NOW.getTime() / 1000
const ALGS = ['ECDH-ES', 'ECDH-ES+A256KW'] as const
const ENCS = ['A256GCM', 'A128GCM'] as const
const CURVES = ['P-256', 'X25519'] as const

let ring: KeyRing
let keys: Record<(typeof CURVES)[number], RingKey>
let privateKeys: PrivateKeys

beforeAll(async () => {
  const made = await twoKeyRing()
  ring = made.ring
  privateKeys = await privateKeysOf(made.dir)
  keys = {
    'P-256': ring.keys.find((k) => k.crv === 'P-256')!,
    X25519: ring.keys.find((k) => k.crv === 'X25519')!,
  }
})

type Outcome = { accepted: true; value: unknown } | { accepted: false; code: string }

type Open = (token: string, r: KeyRing) => Promise<unknown>
const native: Open = (token, r) => openJwe(token, r.resolve, NOW)
const withJose: Open = (token, r) => openJweWithJose(token, r.resolve, NOW, privateKeys)

async function outcome(open: Open, token: string, r = ring): Promise<Outcome> {
  try {
    return { accepted: true, value: await open(token, r) }
  } catch (error) {
    // Anything but a TokenError would be a bug in either path: let the property fail on it.
    if (!(error instanceof TokenError)) throw error
    return { accepted: false, code: error.code }
  }
}

/** Both paths on the same token: the same plaintext when accepted, the same code when refused. */
async function agree(token: string, r = ring): Promise<Outcome> {
  const viaNative = await outcome(native, token, r)
  const viaJose = await outcome(withJose, token, r)
  expect(viaNative).toEqual(viaJose)
  return viaNative
}

describe('RFC 7518 Appendix C (ECDH-ES key agreement example)', () => {
  const bytes = (a: number[]) => Buffer.from(a)

  it('computes the same Z from Bob’s key and Alice’s ephemeral public key', () => {
    const { kty, crv, x, y } = vector.alice
    const alicePublic = { kty, crv, x, y }
    const z = diffieHellman({
      privateKey: createPrivateKey({ key: vector.bob, format: 'jwk' }),
      publicKey: createPublicKey({ key: alicePublic, format: 'jwk' }),
    })
    expect([...z]).toEqual(vector.Z)
  })

  it('builds OtherInfo from AlgorithmID, PartyUInfo, PartyVInfo and SuppPubInfo', () => {
    const info = otherInfo('A128GCM', Buffer.from('Alice'), Buffer.from('Bob'), vector.keydatalen)
    const expected = [
      ...vector.AlgorithmID,
      ...vector.PartyUInfo,
      ...vector.PartyVInfo,
      ...vector.SuppPubInfo,
    ]
    expect([...info]).toEqual(expected)
  })

  it('derives the published key with the Concat KDF', () => {
    const key = concatKdf(
      bytes(vector.Z),
      vector.keydatalen,
      vector.header.enc,
      unb64(vector.header.apu),
      unb64(vector.header.apv),
    )
    expect([...key]).toEqual(vector.derivedKey)
    expect(key.toString('base64url')).toBe(vector.derivedKeyBase64url)
  })

  it('decrypts a token sealed with the published derived key, on both paths', async () => {
    const { kty, crv, x, y } = vector.bob
    const bobPublic = { kty, crv, x, y }
    const kid = await thumbprint(bobPublic)
    const info = {
      kid,
      crv: 'P-256',
      state: 'active',
      created: '2026-01-01T00:00:00Z',
      notAfter: null,
      publicJwk: toPublicJwk({ ...bobPublic, kid }),
    } as const
    const bob = ringKeyFromPrivateJwk(info, { ...vector.bob, kid } as PrivateJwk)
    // The vector's header plus the kid the gateway requires; the KDF inputs are unchanged.
    const token = sealJwe({ ...vector.header, kid }, bytes(vector.Z), '1S00E00AA00')
    const bobKeys = privateKeys
    privateKeys = () => createPrivateKey({ key: vector.bob, format: 'jwk' })
    const result = await agree(token, new KeyRing([bob])).finally(() => (privateKeys = bobKeys))
    expect(result).toMatchObject({ accepted: true, value: { mbi: '1S00E00AA00', kid } })
  })
})

// --- Generators -------------------------------------------------------------------------------

const partyInfo = fc.option(fc.uint8Array({ maxLength: 48 }), { nil: undefined })

const validToken = fc.record({
  index: fc.integer({ min: 0, max: SYNTHETIC_MBI_CAPACITY - 1 }),
  form: fc.constantFrom('plain', 'dashed', 'claims'),
  crv: fc.constantFrom(...CURVES),
  alg: fc.constantFrom(...ALGS),
  enc: fc.constantFrom(...ENCS),
  apu: partyInfo,
  apv: partyInfo,
})
type ValidToken = typeof validToken extends fc.Arbitrary<infer T> ? T : never

function payload({ index, form }: ValidToken): string {
  const mbi = syntheticMbi(index)
  if (form === 'dashed')
    return `${mbi.slice(0, 4)}-${mbi.slice(4, 7)}-${mbi.slice(7)}`.toLowerCase()
  if (form === 'claims') return JSON.stringify({ mbi, iat: NOW_S - 5, exp: NOW_S + 300 })
  return mbi
}

function distinct(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return a === undefined || b === undefined || Buffer.compare(a, b) !== 0
}

/** jose as the sender: a JWE exactly as a partner's JOSE library makes it. */
async function encrypt(t: ValidToken): Promise<string> {
  const key = keys[t.crv]
  const pub = await importJWK({ ...key.publicJwk }, t.alg)
  const parameters: { apu?: Uint8Array; apv?: Uint8Array } = {}
  if (t.apu) parameters.apu = t.apu
  if (t.apv) parameters.apv = t.apv
  return new CompactEncrypt(new TextEncoder().encode(payload(t)))
    .setProtectedHeader({ alg: t.alg, enc: t.enc, kid: key.kid })
    .setKeyManagementParameters(parameters)
    .encrypt(pub)
}

const anyString = fc.string({
  unit: fc.constantFrom(...'AQgw-_+/=. \t\nxyz01'.split('')),
  maxLength: 24,
})
const headerEdit = fc.oneof(
  fc.record({ set: fc.constantFrom('alg'), value: fc.constantFrom(...ALGS, 'ECDH-ES+A128KW') }),
  fc.record({ set: fc.constantFrom('enc'), value: fc.constantFrom(...ENCS, 'A192GCM') }),
  fc.record({ set: fc.constantFrom('kid'), value: fc.constantFrom('other', 'unknown') }),
  fc.record({ set: fc.constantFrom('apu', 'apv', 'typ', 'cty'), value: anyString }),
  fc.record({ set: fc.constantFrom('apv=apu'), value: fc.constant(null) }),
  fc.record({ set: fc.constantFrom('epk.x', 'epk.y'), value: fc.uint8Array({ minLength: 32 }) }),
  fc.record({ set: fc.constantFrom('epk.extra', 'zip', 'crit'), value: fc.constant('x') }),
  fc.record({
    set: fc.constantFrom('delete'),
    value: fc.constantFrom('alg', 'enc', 'kid', 'epk', 'apu', 'apv'),
  }),
)
// Bit flips and header edits keep the shape, so they reach key agreement and decryption; the
// others mostly exercise the shared checks before it.
const mutation = fc.oneof(
  {
    arbitrary: fc.record({ kind: fc.constant('flip' as const), segment: fc.nat(4), bit: fc.nat() }),
    weight: 4,
  },
  { arbitrary: fc.record({ kind: fc.constant('header' as const), edit: headerEdit }), weight: 4 },
  fc.record({
    kind: fc.constant('char' as const),
    at: fc.nat(),
    char: fc.constantFrom(...'A_-.=9z'.split('')),
  }),
  fc.record({ kind: fc.constant('swap' as const), a: fc.nat(4), b: fc.nat(4) }),
  fc.record({ kind: fc.constant('truncate' as const), segment: fc.nat(4), chars: fc.nat(4) }),
)
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never
type HeaderEdit = typeof headerEdit extends fc.Arbitrary<infer T> ? T : never

function editHeader(h: Record<string, unknown>, { set, value }: HeaderEdit, self: RingKey): void {
  const epk = h.epk as Record<string, unknown> | undefined
  switch (set) {
    case 'kid': {
      const other = self.crv === 'P-256' ? keys.X25519 : keys['P-256']
      h.kid = value === 'other' ? other.kid : 'unknown-kid'
      return
    }
    case 'apv=apu':
      h.apv = h.apu ?? b64('same')
      h.apu = h.apv
      return
    case 'epk.x':
    case 'epk.y':
      if (epk) epk[set.slice(4)] = b64((value as Uint8Array).subarray(0, 32))
      return
    case 'epk.extra':
      if (epk) epk.d = b64(new Uint8Array(32))
      return
    case 'delete':
      delete h[value as string]
      return
    default:
      h[set] = value
  }
}

function mutate(token: string, m: Mutation, self: RingKey): string {
  const parts = token.split('.')
  // A mutated dot can leave other than five segments: segment-wise mutations then do nothing.
  if (parts.length !== 5 && m.kind !== 'char') return token
  switch (m.kind) {
    case 'flip': {
      const bytes = unb64(parts[m.segment]!)
      if (bytes.length === 0) return token
      const bit = m.bit % (bytes.length * 8)
      bytes[bit >> 3]! ^= 1 << (bit & 7)
      parts[m.segment] = b64(bytes)
      return parts.join('.')
    }
    case 'header': {
      let header: Record<string, unknown>
      try {
        header = JSON.parse(unb64(parts[0]!).toString('utf8'))
      } catch {
        return token // an earlier mutation broke the header: nothing left to edit
      }
      if (typeof header !== 'object' || header === null) return token
      editHeader(header, m.edit, self)
      parts[0] = b64(JSON.stringify(header))
      return parts.join('.')
    }
    case 'char': {
      const at = m.at % token.length
      return token.slice(0, at) + m.char + token.slice(at + 1)
    }
    case 'swap': {
      ;[parts[m.a], parts[m.b]] = [parts[m.b]!, parts[m.a]!]
      return parts.join('.')
    }
    case 'truncate':
      parts[m.segment] = parts[m.segment]!.slice(0, Math.max(0, parts[m.segment]!.length - m.chars))
      return parts.join('.')
  }
}

// --- Differential properties -------------------------------------------------------------------

describe('the native JWE path agrees with jose', () => {
  it('accepts every valid token jose accepts, with the same result', async () => {
    await fc.assert(
      fc.asyncProperty(validToken, async (t) => {
        fc.pre(distinct(t.apu, t.apv))
        const result = await agree(await encrypt(t))
        expect(result).toMatchObject({
          accepted: true,
          value: { mbi: syntheticMbi(t.index), kid: keys[t.crv].kid, alg: t.alg, enc: t.enc },
        })
      }),
      { numRuns: 150 },
    )
  })

  it('refuses every mutated token jose refuses, with the same code', async () => {
    await fc.assert(
      fc.asyncProperty(
        validToken,
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        async (t, mutations) => {
          fc.pre(distinct(t.apu, t.apv))
          let token = await encrypt(t)
          for (const m of mutations) token = mutate(token, m, keys[t.crv])
          await agree(token)
        },
      ),
      { numRuns: 400 },
    )
  })

  it('agrees on hand-sealed tokens: odd apu/apv spellings, equal apu and apv', async () => {
    const spelling = fc.oneof(
      fc.constant((s: string) => s),
      fc.constant((s: string) => s + '='.repeat((4 - (s.length % 4)) % 4)),
      fc.constant((s: string) => `${s.slice(0, 2)} ${s.slice(2)}`),
      fc.constant((s: string) => s.replace(/[A-Za-z0-9]$/, (c) => (c === 'z' ? 'y' : 'z'))),
      fc.constant((s: string) => s.replace(/-/g, '+').replace(/_/g, '/')),
    )
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...CURVES),
        fc.constantFrom(...ALGS),
        fc.constantFrom(...ENCS),
        fc.uint8Array({ minLength: 1, maxLength: 40 }),
        fc.option(fc.uint8Array({ maxLength: 40 }), { nil: undefined }),
        spelling,
        async (crv, alg, enc, apu, apvBytes, spell) => {
          const key = keys[crv]
          const { epk, z } = ephemeralAgreement(key.publicJwk)
          // No apv: apv equal to apu, a case jose's sender refuses to make.
          const apv = apvBytes ?? apu
          const header = { alg, enc, kid: key.kid, epk, apu: spell(b64(apu)), apv: b64(apv) }
          await agree(sealJwe(header, z, syntheticMbi(apu.length), { apu, apv }))
        },
      ),
      { numRuns: 150 },
    )
  })

  it('agrees that apu and apv have one spelling: padded or non-canonical base64url is malformed', async () => {
    const key = keys['P-256']
    const { epk, z } = ephemeralAgreement(key.publicJwk)
    const apu = Buffer.from('Alice')
    const base = { alg: 'ECDH-ES', enc: 'A256GCM', kid: key.kid, epk }
    const ok = sealJwe({ ...base, apu: b64(apu) }, z, '1S00E00AA00', { apu })
    expect(await agree(ok)).toMatchObject({ accepted: true })
    for (const spelled of [`${b64(apu)}=`, `${b64(apu)}===`, 'QWxpY2X', 'QWxp Y2U']) {
      const token = sealJwe({ ...base, apu: spelled }, z, '1S00E00AA00', { apu })
      expect([spelled, await agree(token)]).toEqual([
        spelled,
        { accepted: false, code: 'ERR_TOKEN_MALFORMED' },
      ])
    }
  })

  it('agrees on a byte order mark before the header or the payload: refused, never stripped', async () => {
    for (const crv of CURVES) {
      const key = keys[crv]
      const { epk, z } = ephemeralAgreement(key.publicJwk)
      const header = { alg: 'ECDH-ES', enc: 'A256GCM', kid: key.kid, epk }
      expect(await agree(sealJwe(header, z, '1S00E00AA00'))).toMatchObject({ accepted: true })
      for (const payload of ['\ufeff1S00E00AA00', '\ufeff{"mbi":"1S00E00AA00"}']) {
        expect(await agree(sealJwe(header, z, payload))).toEqual({
          accepted: false,
          code: 'ERR_TOKEN_IDENTIFIER_INVALID',
        })
      }
      const bomHeader = sealJwe(header, z, '1S00E00AA00', {}, { headerBom: true })
      expect(await agree(bomHeader)).toEqual({ accepted: false, code: 'ERR_TOKEN_MALFORMED' })
    }
  })

  // RFC 7748 §6.1: these points give an all-zero shared secret with any private key. The tokens
  // are sealed with that all-zero Z, so only the all-zero check can refuse them.
  it.each([
    ['zero', '0000000000000000000000000000000000000000000000000000000000000000'],
    ['one', '0100000000000000000000000000000000000000000000000000000000000000'],
    ['order 8', 'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800'],
    ['order 8 (second)', '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157'],
    ['p - 1', 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'],
  ])('refuses an X25519 epk of low order (%s) sealed with Z = 0', async (_name, hex) => {
    for (const alg of ALGS) {
      const epk = { kty: 'OKP', crv: 'X25519', x: b64(Buffer.from(hex, 'hex')) }
      const header = { alg, enc: 'A256GCM', kid: keys.X25519.kid, epk }
      const token = sealJwe(header, new Uint8Array(32), '1S00E00AA00')
      expect(await agree(token)).toEqual({ accepted: false, code: 'ERR_TOKEN_DECRYPTION_FAILED' })
    }
  })

  it('refuses an all-zero X25519 shared secret even where the crypto library returns one', async () => {
    const { epk } = ephemeralAgreement(keys.X25519.publicJwk)
    const header = { alg: 'ECDH-ES', enc: 'A256GCM', kid: keys.X25519.kid, epk }
    const token = sealJwe(header, new Uint8Array(32), '1S00E00AA00')
    allZeroAgreement.on = true
    try {
      expect(await outcome(native, token)).toEqual({
        accepted: false,
        code: 'ERR_TOKEN_DECRYPTION_FAILED',
      })
    } finally {
      allZeroAgreement.on = false
    }
  })

  it('refuses P-256 epk points off the curve or outside the field, like jose', async () => {
    const { epk, z } = ephemeralAgreement(keys['P-256'].publicJwk)
    const p = Buffer.from('ffffffff00000001000000000000000000000000ffffffffffffffffffffffff', 'hex')
    const variants = [
      { ...epk, y: b64(Buffer.alloc(32)) },
      { ...epk, x: b64(p), y: epk.y },
      { ...epk, x: b64(Buffer.alloc(32, 0xff)) },
    ]
    for (const bad of variants) {
      const header = { alg: 'ECDH-ES', enc: 'A256GCM', kid: keys['P-256'].kid, epk: bad }
      const token = sealJwe(header, z, '1S00E00AA00')
      expect(await agree(token)).toEqual({ accepted: false, code: 'ERR_TOKEN_DECRYPTION_FAILED' })
    }
  })
})
