import { createPrivateKey, createPublicKey, diffieHellman } from 'node:crypto'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { describe, expect, it } from 'vitest'
import {
  cipherSuite,
  computeNonce,
  DHKEM_P256,
  DHKEM_X25519,
  HpkeContext,
  HpkeError,
  keySchedule,
  labeledExpand,
  P256_GROUP,
  setupBaseR,
  setupBaseS,
  X25519_GROUP,
  type HpkeErrorCode,
} from '../../src/crypto/hpke/index.js'
import { HPKE_VECTORS } from '../support/hpke-vectors.js'
import invalid from '../vectors/hpke-invalid-public-keys.json' with { type: 'json' }

const vectors = HPKE_VECTORS
const hex = hexToBytes

function flip(bytes: Uint8Array, index: number, bit = 0): Uint8Array {
  const out = bytes.slice()
  out[index]! ^= 1 << bit
  return out
}

function hpkeCode(run: () => unknown): HpkeErrorCode {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(HpkeError)
    return (error as HpkeError).code
  }
  throw new Error('no error was thrown')
}

async function hpkeCodeAsync(run: () => Promise<unknown>): Promise<HpkeErrorCode> {
  try {
    await run()
  } catch (error) {
    expect(error).toBeInstanceOf(HpkeError)
    return (error as HpkeError).code
  }
  throw new Error('no error was thrown')
}

describe.each(vectors.map((v) => [v.section, v] as const))('RFC 9180 %s (mode_base)', (_, v) => {
  const suite = cipherSuite(v.kem_id, v.kdf_id, v.aead_id)
  const first = v.encryptions[0]!

  it('derives pkRm from skRm', () => {
    expect(bytesToHex(suite.kem.group.publicKey(hex(v.skRm)))).toBe(v.pkRm)
  })

  it('decapsulates enc with skRm to the listed shared secret', () => {
    expect(bytesToHex(suite.kem.decap(hex(v.enc), hex(v.skRm)))).toBe(v.shared_secret)
    expect(bytesToHex(suite.kem.decap(hex(v.enc), hex(v.skRm), hex(v.pkRm)))).toBe(v.shared_secret)
  })

  it('derives key and base_nonce (and exporter_secret when listed) from the shared secret', () => {
    const schedule = keySchedule(suite.id, suite.aead, hex(v.shared_secret), hex(v.info))
    expect(bytesToHex(schedule.key)).toBe(v.key)
    expect(bytesToHex(schedule.baseNonce)).toBe(v.base_nonce)
    if (v.exporter_secret) expect(bytesToHex(schedule.exporterSecret)).toBe(v.exporter_secret)
  })

  it('computes every listed nonce as base_nonce XOR seq', () => {
    for (const e of v.encryptions) {
      expect(bytesToHex(computeNonce(hex(v.base_nonce), e.seq))).toBe(e.nonce)
    }
  })

  it('seals every listed plaintext to the listed ciphertext', async () => {
    const context = new HpkeContext(suite.aead, { key: hex(v.key), baseNonce: hex(v.base_nonce) })
    for (const e of v.encryptions) {
      expect(context.seq).toBe(e.seq)
      expect(bytesToHex(await context.seal(hex(e.aad), hex(e.pt)))).toBe(e.ct)
    }
  })

  it('opens every listed ciphertext with skRm from enc and info alone', async () => {
    const context = setupBaseR(suite, hex(v.enc), hex(v.skRm), hex(v.info))
    for (const e of v.encryptions) {
      expect(context.seq).toBe(e.seq)
      expect(bytesToHex(await context.open(hex(e.aad), hex(e.ct)))).toBe(e.pt)
    }
  })

  it('refuses a ciphertext with a bit flipped in its body or its tag', async () => {
    const ct = hex(first.ct)
    for (const index of [0, ct.length - 17, ct.length - 16, ct.length - 1]) {
      const context = setupBaseR(suite, hex(v.enc), hex(v.skRm), hex(v.info))
      expect(await hpkeCodeAsync(() => context.open(hex(first.aad), flip(ct, index)))).toBe(
        'ERR_HPKE_OPEN',
      )
    }
  })

  it('refuses a truncated ciphertext and one without its tag', async () => {
    const ct = hex(first.ct)
    for (const cut of [ct.subarray(0, ct.length - 1), ct.subarray(0, 15), new Uint8Array(0)]) {
      const context = setupBaseR(suite, hex(v.enc), hex(v.skRm), hex(v.info))
      expect(await hpkeCodeAsync(() => context.open(hex(first.aad), cut))).toBe('ERR_HPKE_OPEN')
    }
  })

  it('refuses the ciphertext when any bit of enc is flipped', async () => {
    const enc = hex(v.enc)
    // X25519 ignores the top bit of u (RFC 7748 §5); enc itself is in the KEM context, so
    // flipping even that bit changes the shared secret.
    for (let index = 0; index < enc.length; index += 1) {
      for (const bit of [0, 7]) {
        const code = await hpkeCodeAsync(async () => {
          const context = setupBaseR(suite, flip(enc, index, bit), hex(v.skRm), hex(v.info))
          return context.open(hex(first.aad), hex(first.ct))
        })
        expect(['ERR_HPKE_OPEN', 'ERR_HPKE_DESERIALIZE', 'ERR_HPKE_VALIDATION']).toContain(code)
      }
    }
  })

  it('refuses the ciphertext under another aad, info or sequence number', async () => {
    const open = (info: Uint8Array, aad: Uint8Array, ct: Uint8Array) =>
      hpkeCodeAsync(() => setupBaseR(suite, hex(v.enc), hex(v.skRm), info).open(aad, ct))
    expect(await open(hex(v.info), hex(v.encryptions[1]!.aad), hex(first.ct))).toBe('ERR_HPKE_OPEN')
    expect(await open(flip(hex(v.info), 0), hex(first.aad), hex(first.ct))).toBe('ERR_HPKE_OPEN')
    expect(await open(hex(v.info), hex(first.aad), hex(v.encryptions[1]!.ct))).toBe('ERR_HPKE_OPEN')
  })

  it('round-trips a fresh encapsulation to pkRm', async () => {
    const info = new TextEncoder().encode('round trip')
    const sender = setupBaseS(suite, hex(v.pkRm), info)
    expect(sender.enc.length).toBe(suite.kem.group.nEnc)
    const ct = await sender.context.seal(hex(first.aad), hex(first.pt))
    const receiver = setupBaseR(suite, sender.enc, hex(v.skRm), info)
    expect(bytesToHex(await receiver.open(hex(first.aad), ct))).toBe(first.pt)
  })
})

describe('X25519 public keys that are refused', () => {
  const skRm = hex(vectors.find((v) => v.kem_id === 0x0020)!.skRm)

  it.each(invalid.x25519_small_order)(
    'refuses the small-order point $comment (all-zero shared secret)',
    ({ u }) => {
      expect(hpkeCode(() => X25519_GROUP.dh(skRm, hex(u)))).toBe('ERR_HPKE_VALIDATION')
      expect(hpkeCode(() => DHKEM_X25519.decap(hex(u), skRm))).toBe('ERR_HPKE_VALIDATION')
      // A sender refuses such a recipient key too.
      expect(hpkeCode(() => DHKEM_X25519.encap(hex(u)))).toBe('ERR_HPKE_VALIDATION')
    },
  )

  describe('cross-checked with OpenSSL (node:crypto)', () => {
    const v = vectors.find((w) => w.kem_id === 0x0020)!
    const b64 = (h: string) => Buffer.from(hex(h)).toString('base64url')
    const privateKey = createPrivateKey({
      key: { kty: 'OKP', crv: 'X25519', d: b64(v.skRm), x: b64(v.pkRm) },
      format: 'jwk',
    })
    const publicKey = (u: string) =>
      createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: b64(u) }, format: 'jwk' })

    it('accepts the A.1.1 enc, so the construction itself is sound', () => {
      expect(bytesToHex(diffieHellman({ privateKey, publicKey: publicKey(v.enc) }))).toBe(
        bytesToHex(X25519_GROUP.dh(hex(v.skRm), hex(v.enc))),
      )
    })

    it.each(invalid.x25519_small_order)('refuses $comment as well', ({ u }) => {
      expect(() => diffieHellman({ privateKey, publicKey: publicKey(u) })).toThrow()
    })
  })

  it.each(invalid.x25519_wrong_length)('refuses an enc of $comment', ({ enc }) => {
    expect(hpkeCode(() => X25519_GROUP.checkPublicKey(hex(enc)))).toBe('ERR_HPKE_DESERIALIZE')
    expect(hpkeCode(() => DHKEM_X25519.decap(hex(enc), skRm))).toBe('ERR_HPKE_DESERIALIZE')
  })
})

describe('P-256 public keys that are refused', () => {
  const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn
  const B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn
  const big = (bytes: Uint8Array) => BigInt('0x' + bytesToHex(bytes))
  const skRm = hex(vectors.find((v) => v.kem_id === 0x0010)!.skRm)

  it.each(invalid.p256_invalid)('refuses $comment', ({ enc }) => {
    expect(hpkeCode(() => P256_GROUP.checkPublicKey(hex(enc)))).toBe('ERR_HPKE_DESERIALIZE')
    expect(hpkeCode(() => DHKEM_P256.decap(hex(enc), skRm))).toBe('ERR_HPKE_DESERIALIZE')
    expect(hpkeCode(() => DHKEM_P256.encap(hex(enc)))).toBe('ERR_HPKE_DESERIALIZE')
  })

  it('lists as uncompressed only points that are off the curve or not reduced mod p', () => {
    for (const { enc } of invalid.p256_invalid) {
      const bytes = hex(enc)
      if (bytes.length !== 65 || bytes[0] !== 0x04) continue
      const x = big(bytes.subarray(1, 33))
      const y = big(bytes.subarray(33))
      const onCurve = (((y * y - (x * x * x - 3n * x + B)) % P) + P) % P === 0n
      expect(!onCurve || x >= P || y >= P).toBe(true)
    }
  })
})

describe('HPKE suites and inputs that are refused', () => {
  it.each([
    ['KEM DHKEM(P-384)', 0x0011, 0x0001, 0x0001],
    ['KEM DHKEM(X448)', 0x0021, 0x0001, 0x0001],
    ['KDF HKDF-SHA384', 0x0020, 0x0002, 0x0001],
    ['KDF HKDF-SHA512', 0x0010, 0x0003, 0x0001],
    ['AEAD AES-256-GCM', 0x0020, 0x0001, 0x0002],
    ['AEAD ChaCha20Poly1305', 0x0020, 0x0001, 0x0003],
    ['AEAD export-only', 0x0020, 0x0001, 0xffff],
  ])('refuses %s', (_, kem, kdf, aead) => {
    expect(hpkeCode(() => cipherSuite(kem, kdf, aead))).toBe('ERR_HPKE_SUITE_UNSUPPORTED')
  })

  it('refuses a LabeledExpand longer than 255 * Nh', () => {
    const suite = cipherSuite(0x0020, 0x0001, 0x0001)
    const prk = new Uint8Array(32)
    expect(labeledExpand(suite.id, prk, 'x', new Uint8Array(0), 255 * 32).length).toBe(255 * 32)
    expect(hpkeCode(() => labeledExpand(suite.id, prk, 'x', new Uint8Array(0), 255 * 32 + 1))).toBe(
      'ERR_HPKE_INPUT_LENGTH',
    )
  })
})
