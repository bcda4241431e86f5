import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { concatKdf } from '../../src/crypto/concat-kdf.js'

/** NIST SP 800-56A §5.8.1 as RFC 7518 §4.6.2 spells it, written out plainly. */
function reference(
  z: Uint8Array,
  bits: number,
  algorithmId: string,
  apu: Uint8Array,
  apv: Uint8Array,
): Buffer {
  const u32 = (n: number) => {
    const b = Buffer.alloc(4)
    b.writeUInt32BE(n)
    return b
  }
  const other = Buffer.concat([
    u32(algorithmId.length),
    Buffer.from(algorithmId, 'ascii'),
    u32(apu.length),
    apu,
    u32(apv.length),
    apv,
    u32(bits),
  ])
  const rounds: Buffer[] = []
  for (let i = 1; i * 256 < bits + 256; i++) {
    rounds.push(createHash('sha256').update(u32(i)).update(z).update(other).digest())
  }
  return Buffer.concat(rounds).subarray(0, bits / 8)
}

describe('concatKdf', () => {
  it('matches the written-out KDF for any Z, length and party info, called again and again', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 66 }),
        fc.integer({ min: 1, max: 80 }).map((bytes) => bytes * 8),
        fc.constantFrom('A256GCM', 'A128GCM', 'ECDH-ES+A256KW', 'A192GCM'),
        fc.oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ maxLength: 16 })),
        fc.oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ maxLength: 16 })),
        (z, bits, id, apu, apv) => {
          const copy = Uint8Array.from(z)
          const expected = reference(z, bits, id, apu, apv)
          // Twice: the second call takes OtherInfo from the per-process table when it is plain.
          expect([...concatKdf(z, bits, id, apu, apv)]).toEqual([...expected])
          expect([...concatKdf(z, bits, id, apu, apv)]).toEqual([...expected])
          expect([...z]).toEqual([...copy]) // the caller's Z is read, not changed
        },
      ),
    )
  })

  it('refuses a bad keydatalen or a non-ASCII AlgorithmID, cached or not', () => {
    const z = new Uint8Array(32).fill(1)
    concatKdf(z, 256, 'A256GCM')
    expect(() => concatKdf(z, 0, 'A256GCM')).toThrow(RangeError)
    expect(() => concatKdf(z, 12, 'A256GCM')).toThrow(RangeError)
    expect(() => concatKdf(z, 256, 'Ä256GCM')).toThrow(RangeError)
    expect(() => concatKdf(z, 256, '')).toThrow(RangeError)
  })
})
