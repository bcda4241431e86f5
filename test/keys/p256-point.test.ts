import { ECDH, createECDH } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { AgreementError, checkP256Point } from '../../src/keys/ring/agreement.js'

const P = Buffer.from('ffffffff00000001000000000000000000000000ffffffffffffffffffffffff', 'hex')

/** OpenSSL's verdict: its point decoding refuses coordinates not below p and points off the curve. */
function openssl(point: Uint8Array): boolean {
  try {
    ECDH.convertKey(point, 'prime256v1')
    return true
  } catch {
    return false
  }
}

function ours(point: Uint8Array): boolean {
  try {
    checkP256Point(point)
    return true
  } catch (error) {
    expect(error).toBeInstanceOf(AgreementError)
    expect((error as AgreementError).code).toBe('ERR_AGREEMENT_POINT_INVALID')
    return false
  }
}

const validPoint = fc.constant(null).map(() => {
  const ecdh = createECDH('prime256v1')
  ecdh.generateKeys()
  return new Uint8Array(ecdh.getPublicKey())
})

describe('checkP256Point', () => {
  it('accepts every point on the curve, as OpenSSL does', () => {
    fc.assert(
      fc.property(validPoint, (point) => {
        expect(ours(point)).toBe(true)
      }),
      { numRuns: 200 },
    )
  })

  it('accepts the negated point (x, p - y), as OpenSSL does', () => {
    fc.assert(
      fc.property(validPoint, (point) => {
        const y = BigInt(`0x${Buffer.from(point.subarray(33)).toString('hex')}`)
        const p = BigInt(`0x${P.toString('hex')}`)
        Buffer.from((p - y).toString(16).padStart(64, '0'), 'hex').copy(
          Buffer.from(point.buffer),
          33,
        )
        expect(openssl(point)).toBe(true)
        expect(ours(point)).toBe(true)
      }),
      { numRuns: 100 },
    )
  })

  it('gives OpenSSL’s verdict on a point with one bit flipped in a coordinate', () => {
    fc.assert(
      fc.property(validPoint, fc.integer({ min: 8, max: 519 }), (point, bit) => {
        point[bit >> 3]! ^= 1 << (bit & 7)
        expect(ours(point)).toBe(openssl(point))
      }),
      { numRuns: 500 },
    )
  })

  it('gives OpenSSL’s verdict on any 64 bytes after 0x04', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 64, maxLength: 64 }), (xy) => {
        const point = Uint8Array.of(0x04, ...xy)
        expect(ours(point)).toBe(openssl(point))
      }),
      { numRuns: 500 },
    )
  })

  it('refuses a coordinate equal to or above p, the all-zero point, and other encodings', () => {
    const valid = (() => {
      const ecdh = createECDH('prime256v1')
      ecdh.generateKeys()
      return ecdh.getPublicKey()
    })()
    for (const [offset, value] of [
      [1, P],
      [33, P],
      [1, Buffer.alloc(32, 0xff)],
      [33, Buffer.alloc(32, 0xff)],
    ] as const) {
      const point = Buffer.from(valid)
      value.copy(point, offset)
      expect(ours(point)).toBe(false)
      expect(openssl(point)).toBe(false)
    }
    expect(ours(Uint8Array.of(0x04, ...new Uint8Array(64)))).toBe(false)
    const compressed = ECDH.convertKey(valid, 'prime256v1', undefined, undefined, 'compressed')
    expect(ours(compressed as Buffer)).toBe(false)
    expect(ours(valid.subarray(0, 64))).toBe(false)
    const hybrid = Buffer.from(valid)
    hybrid[0] = 0x06 | (valid[64]! & 1)
    expect(ours(hybrid)).toBe(false)
  })
})
