/**
 * The gateway's DHKEM with a ring key's `agree` (src/crypto/hpke/node-recipient.ts, the key on
 * node:crypto in src/keys/) against the noble one that partners and browsers use: the RFC 9180
 * vectors on both, the same refusals for invalid and low-order public keys, and a differential
 * property over arbitrary `enc` values.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto'
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
  X25519_GROUP,
  type DhGroup,
  type DhRecipient,
  type Dhkem,
  type KemId,
} from '../../src/crypto/hpke/index.js'
import { decapWithKey, openWithKey } from '../../src/crypto/hpke/node-recipient.js'
import { ringKeyFromPrivateJwk, type RingKey } from '../../src/keys/ring/ring-key.js'
import type { PrivateJwk, PublicJwk } from '../../src/keys/jwk.js'
import rfc from '../vectors/rfc9180-base-mode.json' with { type: 'json' }
import invalid from '../vectors/hpke-invalid-public-keys.json' with { type: 'json' }

const hex = hexToBytes
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url')

/** A ring key (in-process) from a raw scalar and its serialized public key. */
function ringKeyOf(kemId: number, sk: Uint8Array, pk: Uint8Array): RingKey {
  const pub =
    kemId === 0x0020
      ? { kty: 'OKP', crv: 'X25519', x: b64(pk) }
      : { kty: 'EC', crv: 'P-256', x: b64(pk.subarray(1, 33)), y: b64(pk.subarray(33)) }
  const kid = 'test-key'
  const publicJwk = { ...pub, kid, use: 'enc' } as PublicJwk
  const info = {
    kid,
    crv: publicJwk.crv,
    state: 'active' as const,
    created: '',
    notAfter: null,
    publicJwk,
  }
  return ringKeyFromPrivateJwk(info, { ...pub, d: b64(sk), kid } as PrivateJwk)
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
  node: RingKey
  pk: Uint8Array
}

function pair(kemId: KemId, sk: Uint8Array, pk: Uint8Array): Pair {
  const kem = kemId === 0x0020 ? DHKEM_X25519 : DHKEM_P256
  return {
    kem,
    group: kem.group,
    noble: nobleRecipient(kem.group, sk, pk),
    node: ringKeyOf(kemId, sk, pk),
    pk,
  }
}

const suiteOf = (kem: Dhkem) => cipherSuite(kem.group.kemId, 0x0001, 0x0001)

/** What a recipient makes of `enc`: the shared secret, or the HPKE error code. */
async function outcome(p: Pair, side: 'node' | 'noble', enc: Uint8Array): Promise<string> {
  try {
    return bytesToHex(
      side === 'noble'
        ? p.kem.decapWith(enc, p.noble)
        : await decapWithKey(suiteOf(p.kem), enc, p.node, p.pk),
    )
  } catch (error) {
    if (!(error instanceof HpkeError)) throw error
    return error.code
  }
}

describe.each(rfc.vectors.map((v) => [v.section, v] as const))(
  'RFC 9180 %s on node:crypto',
  (_, v) => {
    const p = pair(v.kem_id as KemId, hex(v.skRm), hex(v.pkRm))
    const suite = cipherSuite(v.kem_id, v.kdf_id, v.aead_id)

    it('decapsulates enc to the listed shared secret on both paths', async () => {
      expect(await outcome(p, 'node', hex(v.enc))).toBe(v.shared_secret)
      expect(await outcome(p, 'noble', hex(v.enc))).toBe(v.shared_secret)
    })

    it('opens the first listed ciphertext with the ring key', async () => {
      const first = v.encryptions[0]!
      const once = await openWithKey(
        suite,
        hex(v.enc),
        p.node,
        p.pk,
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

  it.each(invalid.x25519_small_order)('X25519 $comment: ERR_HPKE_VALIDATION', async ({ u }) => {
    expect(await outcome(x25519, 'node', hex(u))).toBe('ERR_HPKE_VALIDATION')
    expect(await outcome(x25519, 'noble', hex(u))).toBe('ERR_HPKE_VALIDATION')
  })

  it.each(invalid.x25519_wrong_length)(
    'X25519 enc of $comment: ERR_HPKE_DESERIALIZE',
    async ({ enc }) => {
      expect(await outcome(x25519, 'node', hex(enc))).toBe('ERR_HPKE_DESERIALIZE')
      expect(await outcome(x25519, 'noble', hex(enc))).toBe('ERR_HPKE_DESERIALIZE')
    },
  )

  it.each(invalid.p256_invalid)('P-256 $comment: ERR_HPKE_DESERIALIZE', async ({ enc }) => {
    expect(await outcome(p256, 'node', hex(enc))).toBe('ERR_HPKE_DESERIALIZE')
    expect(await outcome(p256, 'noble', hex(enc))).toBe('ERR_HPKE_DESERIALIZE')
  })

  it('refuses a ring key that is not on the KEM group', async () => {
    const suite = cipherSuite(0x0010, 0x0001, 0x0001)
    await expect(decapWithKey(suite, hex(x.enc), x25519.node, x25519.pk)).rejects.toThrow(TypeError)
  })

  it('refuses a recipient of the other KEM at decap', () => {
    expect(() => DHKEM_P256.decapWith(hex(x.enc), x25519.noble)).toThrow(HpkeError)
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
  const p = pair(kemId, sk, pk)

  it('gives the same shared secret or the same refusal', async () => {
    const seen = new Set<string>()
    await fc.assert(
      fc.asyncProperty(encs(group, edge), async (enc) => {
        const result = await outcome(p, 'node', enc)
        expect(result).toBe(await outcome(p, 'noble', enc))
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
          const viaNode = await openWithKey(suite, enc, p.node, pk, info, aad, ciphertext)
          const viaNoble = await openBaseWith(suite, enc, p.noble, info, aad, ciphertext)
          expect(bytesToHex(viaNode)).toBe(bytesToHex(pt))
          expect(bytesToHex(viaNoble)).toBe(bytesToHex(pt))
        },
      ),
      { numRuns: 100 },
    )
  })
})
