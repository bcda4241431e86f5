import type { Mbi } from './mbi.js'

/**
 * Deterministic synthetic MBIs: a mixed-radix encoding of a non-negative integer into the
 * positions of the MBI format, with `S` in position 2 (the marker of synthetic data).
 * Distinct integers give distinct MBIs, so generated test data never collides by accident.
 */

const DIGITS = '0123456789'
const LETTERS = 'ACDEFGHJKMNPQRTUVWXY'
const ALNUM = DIGITS + LETTERS

// Positions 1, 3..11 (position 2 is the fixed `S`), least significant last.
const RADICES: readonly string[] = [
  '123456789',
  ALNUM,
  DIGITS,
  LETTERS,
  ALNUM,
  DIGITS,
  LETTERS,
  LETTERS,
  DIGITS,
  DIGITS,
]

export const SYNTHETIC_MBI_CAPACITY = RADICES.reduce((n, r) => n * r.length, 1)

export function syntheticMbi(index: number): Mbi {
  if (!Number.isSafeInteger(index) || index < 0 || index >= SYNTHETIC_MBI_CAPACITY) {
    throw new RangeError(`synthetic MBI index out of range: ${index}`)
  }
  const chars: string[] = []
  let rest = index
  for (let i = RADICES.length - 1; i >= 0; i--) {
    const alphabet = RADICES[i]!
    chars[i] = alphabet[rest % alphabet.length]!
    rest = Math.floor(rest / alphabet.length)
  }
  return (chars[0]! + 'S' + chars.slice(1).join('')) as Mbi
}
