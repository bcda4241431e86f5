/**
 * The gateway's DHKEM on node:crypto (src/crypto/hpke/node-recipient.ts) against the noble one
 * that partners and browsers use: the RFC 9180 vectors on both, the same refusals for invalid
 * and low-order public keys, and a differential property over arbitrary `enc` values.
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  cipherSuite,
  DHKEM_P256,
  DHKEM_X25519,
  HpkeError,
  nobleRecipient,
  openBaseWith,
  P256_GROUP,
  sealBase,
  setupBaseRWith,
  X25519_GROUP,
  type DhGroup,
  type DhRecipient,
  type Dhkem,
  type KemId,
} from '../src/crypto/hpke/index.js'
import { nodeRecipient } from '../src/crypto/hpke/node-recipient.js'
import rfc from './vectors/rfc9180-base-mode.json' with { type: 'json' }
import invalid from './vectors/hpke-invalid-public-keys.json' with { type: 'json' }

const hex = hexToBytes
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url')

/** A private KeyObject from a raw scalar and its serialized public key, as the ring loads one. */
function privateKeyObject(kemId: number, sk: Uint8Array, pk: Uint8Array): KeyObject {
  const jwk =
    kemId === 0x0020
      ? { kty: 'OKP', crv: 'X25519', d: b64(sk), x: b64(pk) }
      : { kty: 'EC', crv: 'P-256', d: b64(sk), x: b64(pk.subarray(1, 33)), y: b64(pk.subarray(33)) }
  return createPrivateKey({ key: jwk, format: 'jwk' })
}

/** The raw scalar and serialized public key of a KeyObject, for the noble side of a pair. */
function rawPair(privateKey: KeyObject): { sk: Uint8Array; pk: Uint8Array } {
  const { d, x, y } = privateKey.export({ format: 'jwk' })
  const bytes = (v: string | undefined) => new Uint8Array(Buffer.from(v!, 'base64url'))
  const pk = y === undefined ? bytes(x) : Uint8Array.of(0x04, ...bytes(x), ...bytes(y))
  return { sk: bytes(d), pk }
}

interface Pair {
  kem: Dhkem
  group: DhGroup
  noble: DhRecipient
  node: DhRecipient
}

function pair(kemId: KemId, sk: Uint8Array, pk: Uint8Array): Pair {
  const kem = kemId === 0x0020 ? DHKEM_X25519 : DHKEM_P256
  return {
    kem,
    group: kem.group,
    noble: nobleRecipient(kem.group, sk, pk),
    node: nodeRecipient(kemId, privateKeyObject(kemId, sk, pk), pk),
  }
}

/** What a recipient makes of `enc`: the shared secret, or the HPKE error code. */
function outcome(kem: Dhkem, recipient: DhRecipient, enc: Uint8Array): string {
  try {
    return bytesToHex(kem.decapWith(enc, recipient))
  } catch (error) {
    if (!(error instanceof HpkeError)) throw error
    return error.code
  }
}

describe.each(rfc.vectors.map((v) => [v.section, v] as const))(
  'RFC 9180 %s on node:crypto',
  (_, v) => {
    const { noble, node, kem } = pair(v.kem_id as KemId, hex(v.skRm), hex(v.pkRm))
    const suite = cipherSuite(v.kem_id, v.kdf_id, v.aead_id)

    it('decapsulates enc to the listed shared secret on both paths', () => {
      expect(bytesToHex(kem.decapWith(hex(v.enc), node))).toBe(v.shared_secret)
      expect(bytesToHex(kem.decapWith(hex(v.enc), noble))).toBe(v.shared_secret)
    })

    it('opens every listed ciphertext with the KeyObject', async () => {
      const context = setupBaseRWith(suite, hex(v.enc), node, hex(v.info))
      for (const e of v.encryptions) {
        expect(bytesToHex(await context.open(hex(e.aad), hex(e.ct)))).toBe(e.pt)
      }
      const first = v.encryptions[0]!
      const once = await openBaseWith(
        suite,
        hex(v.enc),
        node,
        hex(v.info),
        hex(first.aad),
        hex(first.ct),
      )
      expect(bytesToHex(once)).toBe(first.pt)
    })
  },
)

describe('public keys both paths refuse, with the same error', () => {
  const x = rfc.vectors.find((v) => v.kem_id === 0x0020)!
  const p = rfc.vectors.find((v) => v.kem_id === 0x0010)!
  const x25519 = pair(0x0020, hex(x.skRm), hex(x.pkRm))
  const p256 = pair(0x0010, hex(p.skRm), hex(p.pkRm))

  it.each(invalid.x25519_small_order)('X25519 $comment: ERR_HPKE_VALIDATION', ({ u }) => {
    expect(outcome(x25519.kem, x25519.node, hex(u))).toBe('ERR_HPKE_VALIDATION')
    expect(outcome(x25519.kem, x25519.noble, hex(u))).toBe('ERR_HPKE_VALIDATION')
  })

  it.each(invalid.x25519_wrong_length)(
    'X25519 enc of $comment: ERR_HPKE_DESERIALIZE',
    ({ enc }) => {
      expect(outcome(x25519.kem, x25519.node, hex(enc))).toBe('ERR_HPKE_DESERIALIZE')
      expect(outcome(x25519.kem, x25519.noble, hex(enc))).toBe('ERR_HPKE_DESERIALIZE')
    },
  )

  it.each(invalid.p256_invalid)('P-256 $comment: ERR_HPKE_DESERIALIZE', ({ enc }) => {
    expect(outcome(p256.kem, p256.node, hex(enc))).toBe('ERR_HPKE_DESERIALIZE')
    expect(outcome(p256.kem, p256.noble, hex(enc))).toBe('ERR_HPKE_DESERIALIZE')
  })

  it('refuses a recipient whose KeyObject is not on the KEM group', () => {
    const { privateKey } = generateKeyPairSync('x25519')
    expect(() => nodeRecipient(0x0010, privateKey, hex(p.pkRm))).toThrow(TypeError)
    const ed = generateKeyPairSync('ed25519').privateKey
    expect(() => nodeRecipient(0x0020, ed, hex(x.pkRm))).toThrow(TypeError)
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey
    expect(() => nodeRecipient(0x0010, p384, hex(p.pkRm))).toThrow(TypeError)
  })

  it('refuses a recipient of the other KEM at decap', () => {
    expect(() => DHKEM_P256.decapWith(hex(x.enc), x25519.node)).toThrow(HpkeError)
  })
})

/** Arbitrary `enc` values for a group: valid keys, their bit flips, edge values, noise. */
function encs(group: DhGroup, edge: readonly string[]): fc.Arbitrary<Uint8Array> {
  const valid = fc.constant(null).map(() => group.publicKey(group.randomSecretKey()))
  const flip = fc.tuple(valid, fc.nat(), fc.integer({ min: 0, max: 7 })).map(([pk, at, bit]) => {
    const out = pk.slice()
    out[at % out.length]! ^= 1 << bit
    return out
  })
  return fc.oneof(
    valid,
    flip,
    fc.constantFrom(...edge.map((h) => hex(h))),
    fc.uint8Array({ minLength: group.nEnc, maxLength: group.nEnc }),
    fc
      .uint8Array({ minLength: group.nEnc - 1, maxLength: group.nEnc - 1 })
      .map((b) => Uint8Array.of(0x04, ...b)),
    fc.uint8Array({ maxLength: group.nEnc + 2 }),
  )
}

describe.each([
  ['X25519', 0x0020, X25519_GROUP, invalid.x25519_small_order.map((v) => v.u)],
  ['P-256', 0x0010, P256_GROUP, invalid.p256_invalid.map((v) => v.enc)],
] as const)('node:crypto and noble agree on every %s enc', (_, kemId, group, edge) => {
  const { privateKey } =
    kemId === 0x0020
      ? generateKeyPairSync('x25519')
      : generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  const { sk, pk } = rawPair(privateKey)
  const { kem, noble, node } = pair(kemId, sk, pk)

  it('gives the same shared secret or the same refusal', () => {
    const seen = new Set<string>()
    fc.assert(
      fc.property(encs(group, edge), (enc) => {
        const result = outcome(kem, node, enc)
        expect(result).toBe(outcome(kem, noble, enc))
        seen.add(result.startsWith('ERR_') ? result : 'shared secret')
      }),
      { numRuns: 1000 },
    )
    // The property ran through acceptances and through each kind of refusal.
    const refusals = kemId === 0x0020 ? ['ERR_HPKE_VALIDATION'] : []
    expect([...seen]).toEqual(
      expect.arrayContaining(['shared secret', 'ERR_HPKE_DESERIALIZE', ...refusals]),
    )
  })

  it('opens what a noble sender sealed, to the same plaintext', async () => {
    const suite = cipherSuite(kemId, 0x0001, 0x0001)
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.uint8Array({ maxLength: 16 }),
        fc.uint8Array({ maxLength: 16 }),
        async (pt, info, aad) => {
          const { enc, ciphertext } = await sealBase(suite, pk, info, aad, pt)
          const viaNode = await openBaseWith(suite, enc, node, info, aad, ciphertext)
          const viaNoble = await openBaseWith(suite, enc, noble, info, aad, ciphertext)
          expect(bytesToHex(viaNode)).toBe(bytesToHex(pt))
          expect(bytesToHex(viaNoble)).toBe(bytesToHex(pt))
        },
      ),
      { numRuns: 100 },
    )
  })
})
