/**
 * The gateway's HKDF-SHA256 and AES-128-GCM on node:crypto (src/crypto/hpke/node-primitives.ts)
 * against the @noble/hashes and WebCrypto ones the client runs: the RFC 9180 vectors on both
 * pairs, and differential properties over random inputs (the same labeled KDF outputs, the same
 * ciphertexts, the same refusal of every tampered byte).
 */
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  AES_128_GCM,
  cipherSuite,
  HKDF_SHA256,
  HpkeContext,
  HpkeError,
  keySchedule,
  labeledExpand,
  labeledExtract,
  nobleRecipient,
  openBaseWith,
  PORTABLE_PRIMITIVES,
  sealBase,
  setupBaseR,
  setupBaseS,
  type Aead,
  type HpkeErrorCode,
  type Primitives,
} from '../../src/crypto/hpke/index.js'
import {
  NODE_AES_128_GCM,
  NODE_HKDF_SHA256,
  NODE_PRIMITIVES,
} from '../../src/crypto/hpke/node-primitives.js'
import { HPKE_VECTORS } from '../support/hpke-vectors.js'

const vectors = HPKE_VECTORS
const hex = hexToBytes

async function openCode(run: () => Promise<unknown>): Promise<HpkeErrorCode | 'opened'> {
  try {
    await run()
    return 'opened'
  } catch (error) {
    expect(error).toBeInstanceOf(HpkeError)
    return (error as HpkeError).code
  }
}

const IMPLEMENTATIONS: [string, Primitives][] = [
  ['node:crypto', NODE_PRIMITIVES],
  ['@noble/hashes and WebCrypto', PORTABLE_PRIMITIVES],
]

describe.each(IMPLEMENTATIONS)('RFC 9180 vectors on %s', (_, primitives) => {
  describe.each(vectors.map((v) => [v.section, v] as const))('%s', (_, v) => {
    const suite = cipherSuite(v.kem_id, v.kdf_id, v.aead_id, primitives)

    it('uses the implementations it was given', () => {
      expect(suite.kdf).toBe(primitives.kdf)
      expect(suite.aead).toBe(primitives.aead)
    })

    it('decapsulates enc to the listed shared secret', () => {
      const ss = suite.kem.decap(hex(v.enc), hex(v.skRm), hex(v.pkRm), suite.kdf)
      expect(bytesToHex(ss)).toBe(v.shared_secret)
    })

    it('derives key and base_nonce (and exporter_secret when listed)', () => {
      const schedule = keySchedule(
        suite.id,
        suite.aead,
        hex(v.shared_secret),
        hex(v.info),
        suite.kdf,
      )
      expect(bytesToHex(schedule.key)).toBe(v.key)
      expect(bytesToHex(schedule.baseNonce)).toBe(v.base_nonce)
      expect(schedule.exporterSecret.length).toBe(32)
      if (v.exporter_secret) expect(bytesToHex(schedule.exporterSecret)).toBe(v.exporter_secret)
    })

    it('seals every listed plaintext to the listed ciphertext', async () => {
      const context = new HpkeContext(suite.aead, { key: hex(v.key), baseNonce: hex(v.base_nonce) })
      for (const e of v.encryptions) {
        expect(bytesToHex(await context.seal(hex(e.aad), hex(e.pt)))).toBe(e.ct)
      }
    })

    it('opens every listed ciphertext from enc and info alone', async () => {
      const context = setupBaseR(suite, hex(v.enc), hex(v.skRm), hex(v.info))
      for (const e of v.encryptions) {
        expect(bytesToHex(await context.open(hex(e.aad), hex(e.ct)))).toBe(e.pt)
      }
      const first = v.encryptions[0]!
      const recipient = nobleRecipient(suite.kem.group, hex(v.skRm))
      const once = openBaseWith(
        suite,
        hex(v.enc),
        recipient,
        hex(v.info),
        hex(first.aad),
        hex(first.ct),
      )
      expect(bytesToHex(await once)).toBe(first.pt)
    })

    it('refuses the first ciphertext truncated, without its tag, or empty', async () => {
      const ct = hex(v.encryptions[0]!.ct)
      const aad = hex(v.encryptions[0]!.aad)
      for (const cut of [ct.subarray(0, ct.length - 1), ct.subarray(0, 15), new Uint8Array(0)]) {
        const context = setupBaseR(suite, hex(v.enc), hex(v.skRm), hex(v.info))
        expect(await openCode(() => context.open(aad, cut))).toBe('ERR_HPKE_OPEN')
      }
    })
  })
})

describe('the two HPKE primitive pairs', () => {
  it('refuse a key or nonce of the wrong length alike', async () => {
    for (const aead of [NODE_AES_128_GCM, AES_128_GCM]) {
      const ct = new Uint8Array(32)
      expect(await openCode(() => aead.open(new Uint8Array(32), new Uint8Array(12), ct, ct))).toBe(
        'ERR_HPKE_INPUT_LENGTH',
      )
      expect(await openCode(() => aead.open(new Uint8Array(16), new Uint8Array(16), ct, ct))).toBe(
        'ERR_HPKE_INPUT_LENGTH',
      )
    }
  })

  it('refuse a LabeledExpand longer than 255 * Nh alike', () => {
    const id = cipherSuite(0x0020, 0x0001, 0x0001).id
    for (const kdf of [NODE_HKDF_SHA256, HKDF_SHA256]) {
      const prk = new Uint8Array(32)
      expect(labeledExpand(id, prk, 'x', new Uint8Array(0), 255 * 32, kdf).length).toBe(255 * 32)
      expect(() => labeledExpand(id, prk, 'x', new Uint8Array(0), 255 * 32 + 1, kdf)).toThrow(
        HpkeError,
      )
    }
  })

  it('are chosen only among the allowlisted suites', () => {
    expect(() => cipherSuite(0x0020, 0x0001, 0x0002, NODE_PRIMITIVES)).toThrow(HpkeError)
    expect(() => cipherSuite(0x0020, 0x0002, 0x0001, NODE_PRIMITIVES)).toThrow(HpkeError)
    const other = { ...NODE_PRIMITIVES, aead: { ...NODE_AES_128_GCM, id: 2 } }
    expect(() => cipherSuite(0x0020, 0x0001, 0x0001, other)).toThrow(TypeError)
  })
})

const bytes = (max: number) => fc.uint8Array({ maxLength: max })
const suiteIds = fc.constantFrom(
  cipherSuite(0x0020, 0x0001, 0x0001).id,
  cipherSuite(0x0010, 0x0001, 0x0001).id,
  new TextEncoder().encode('KEM\x00\x20'),
)
const labels = fc.oneof(
  fc.constantFrom('psk_id_hash', 'info_hash', 'secret', 'key', 'base_nonce', 'exp', 'eae_prk'),
  fc.string({ maxLength: 20 }),
)

describe('node:crypto and @noble/hashes agree on the labeled HKDF', () => {
  it('gives the same LabeledExtract for any salt, label and ikm', () => {
    fc.assert(
      fc.property(suiteIds, bytes(80), labels, bytes(200), (id, salt, label, ikm) => {
        expect(bytesToHex(labeledExtract(id, salt, label, ikm, NODE_HKDF_SHA256))).toBe(
          bytesToHex(labeledExtract(id, salt, label, ikm, HKDF_SHA256)),
        )
      }),
      { numRuns: 500 },
    )
  })

  it('gives the same LabeledExpand, or the same refusal, for any prk, label, info and length', () => {
    const outcome = (run: () => Uint8Array): string => {
      try {
        return bytesToHex(run())
      } catch (error) {
        expect(error).toBeInstanceOf(HpkeError)
        return (error as HpkeError).code
      }
    }
    const prks = fc.oneof(fc.uint8Array({ minLength: 32, maxLength: 64 }), bytes(40))
    const lengths = fc.oneof(
      fc.integer({ min: 1, max: 100 }),
      fc.integer({ min: -1, max: 255 * 32 + 1 }),
    )
    const seen = new Set<string>()
    fc.assert(
      fc.property(suiteIds, prks, labels, bytes(200), lengths, (id, prk, label, info, n) => {
        const viaNode = outcome(() => labeledExpand(id, prk, label, info, n, NODE_HKDF_SHA256))
        expect(viaNode).toBe(outcome(() => labeledExpand(id, prk, label, info, n, HKDF_SHA256)))
        seen.add(viaNode.startsWith('ERR_') ? viaNode : 'output')
      }),
      { numRuns: 400 },
    )
    expect([...seen].sort()).toEqual(['ERR_HPKE_INPUT_LENGTH', 'output'])
  })

  it('refuses a prk shorter than Nh in both implementations of Expand', () => {
    for (const kdf of [NODE_HKDF_SHA256, HKDF_SHA256]) {
      expect(() => kdf.expand(new Uint8Array(31), new Uint8Array(0), 32)).toThrow()
      expect(kdf.expand(new Uint8Array(32), new Uint8Array(0), 32).length).toBe(32)
    }
  })
})

/** `bytes` with one byte XORed by a nonzero mask. */
function tamper(bytes: Uint8Array, at: number, mask: number): Uint8Array {
  const out = bytes.slice()
  out[at % out.length]! ^= mask
  return out
}

describe('node:crypto and WebCrypto agree on AES-128-GCM', () => {
  const key = fc.uint8Array({ minLength: 16, maxLength: 16 })
  const nonce = fc.uint8Array({ minLength: 12, maxLength: 12 })
  const both: [Aead, Aead] = [NODE_AES_128_GCM, AES_128_GCM]

  it('seals to the same ciphertext, which each opens', async () => {
    await fc.assert(
      fc.asyncProperty(key, nonce, bytes(40), bytes(100), async (k, n, aad, pt) => {
        const [viaNode, viaWeb] = await Promise.all(both.map((a) => a.seal(k, n, aad, pt)))
        expect(bytesToHex(viaNode!)).toBe(bytesToHex(viaWeb!))
        for (const aead of both) {
          expect(bytesToHex(await aead.open(k, n, aad, viaNode!))).toBe(bytesToHex(pt))
        }
      }),
      { numRuns: 300 },
    )
  })

  it('both refuse a ciphertext, aad, key or nonce with any byte changed', async () => {
    const part = fc.constantFrom('ct', 'aad', 'key', 'nonce')
    const mask = fc.integer({ min: 1, max: 255 })
    await fc.assert(
      fc.asyncProperty(
        key,
        nonce,
        fc.uint8Array({ minLength: 1, maxLength: 40 }),
        bytes(60),
        part,
        fc.nat(),
        mask,
        async (k, n, aad, pt, which, at, m) => {
          const ct = await AES_128_GCM.seal(k, n, aad, pt)
          const args: Record<'k' | 'n' | 'aad' | 'ct', Uint8Array> = { k, n, aad, ct }
          if (which === 'ct') args.ct = tamper(ct, at, m)
          if (which === 'aad') args.aad = tamper(aad, at, m)
          if (which === 'key') args.k = tamper(k, at, m)
          if (which === 'nonce') args.n = tamper(n, at, m)
          for (const aead of both) {
            expect(await openCode(() => aead.open(args.k, args.n, args.aad, args.ct))).toBe(
              'ERR_HPKE_OPEN',
            )
          }
        },
      ),
      { numRuns: 300 },
    )
  })

  it('both refuse every ciphertext shorter than the tag', async () => {
    await fc.assert(
      fc.asyncProperty(key, nonce, bytes(15), async (k, n, short) => {
        for (const aead of both) {
          expect(await openCode(() => aead.open(k, n, new Uint8Array(0), short))).toBe(
            'ERR_HPKE_OPEN',
          )
        }
      }),
      { numRuns: 50 },
    )
  })
})

describe('whole HPKE exchanges across the two primitive pairs', () => {
  it('opens on each pair what the other sealed', async () => {
    const [node, portable] = [NODE_PRIMITIVES, PORTABLE_PRIMITIVES].map((p) =>
      cipherSuite(0x0020, 0x0001, 0x0001, p),
    )
    const sk = hex(vectors.find((v) => v.kem_id === 0x0020)!.skRm)
    const pk = node!.kem.group.publicKey(sk)
    await fc.assert(
      fc.asyncProperty(bytes(60), bytes(20), bytes(20), async (pt, info, aad) => {
        for (const [from, to] of [
          [node!, portable!],
          [portable!, node!],
        ] as const) {
          const { enc, ciphertext } = await sealBase(from, pk, info, aad, pt)
          const opened = await openBaseWith(
            to,
            enc,
            nobleRecipient(to.kem.group, sk),
            info,
            aad,
            ciphertext,
          )
          expect(bytesToHex(opened)).toBe(bytesToHex(pt))
        }
        const { enc, context } = setupBaseS(node!, pk, info)
        const ct = await context.seal(aad, pt)
        expect(bytesToHex(await setupBaseR(portable!, enc, sk, info).open(aad, ct))).toBe(
          bytesToHex(pt),
        )
      }),
      { numRuns: 50 },
    )
  })
})
