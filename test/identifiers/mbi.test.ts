import fc from 'fast-check'
import {
  normalizeHicn as clientNormalizeHicn,
  normalizeMbi as clientNormalizeMbi,
} from '@sealed-search/client'
import { describe, expect, it } from 'vitest'
import { normalizeHicn } from '../../src/identifiers/hicn.js'
import { isMbi, normalizeMbi } from '../../src/identifiers/mbi.js'
import { SYNTHETIC_MBI_CAPACITY, syntheticMbi } from '../../src/identifiers/synthetic.js'

const DIGITS = '0123456789'
const LETTERS = 'ACDEFGHJKMNPQRTUVWXY'
const ANY = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-'
const POSITIONS = [
  '123456789',
  LETTERS + 'S',
  DIGITS + LETTERS,
  DIGITS,
  LETTERS,
  DIGITS + LETTERS,
  DIGITS,
  LETTERS,
  LETTERS,
  DIGITS,
  DIGITS,
]
const char = (alphabet: string) => fc.constantFrom(...alphabet.split(''))
/** Strings that are mostly well-formed, with the odd wrong character at any position. */
const nearlyMbi = fc
  .tuple(...POSITIONS.map((p) => fc.oneof({ arbitrary: char(p), weight: 12 }, char(ANY))))
  .map((chars) => chars.join(''))

describe('MBI validation', () => {
  // CMS's published example MBI, in print and compact form.
  it('accepts the CMS example 1EG4-TE5-MK73 and normalises it to 1EG4TE5MK73', () => {
    expect(normalizeMbi('1EG4-TE5-MK73')).toBe('1EG4TE5MK73')
    expect(normalizeMbi('1EG4TE5MK73')).toBe('1EG4TE5MK73')
  })

  it('normalises lower case', () => {
    expect(normalizeMbi('1eg4te5mk73')).toBe('1EG4TE5MK73')
    expect(normalizeMbi('1eg4-te5-mk73')).toBe('1EG4TE5MK73')
  })

  it('accepts the synthetic form with S in position 2', () => {
    expect(normalizeMbi('1S00E00AA00')).toBe('1S00E00AA00')
  })

  it.each([
    ['too short', '1EG4TE5MK7'],
    ['too long', '1EG4TE5MK733'],
    ['position 1 zero', '0EG4TE5MK73'],
    ['position 1 letter', 'AEG4TE5MK73'],
    ['position 2 digit', '12G4TE5MK73'],
    ['position 4 letter', '1EGATE5MK73'],
    ['position 5 digit', '1EG45E5MK73'],
    ['position 7 letter', '1EG4TEAMK73'],
    ['position 8 digit', '1EG4TE59K73'],
    ['position 9 digit', '1EG4TE5M973'],
    ['position 10 letter', '1EG4TE5MKA3'],
    ['position 11 letter', '1EG4TE5MK7A'],
    ['excluded letter S outside position 2', '1EG4SE5MK73'],
    ['excluded letter L', '1LG4TE5MK73'],
    ['excluded letter O', '1EO4TE5MK73'],
    ['excluded letter I', '1EG4TI5MK73'],
    ['excluded letter B', '1EG4TE5BK73'],
    ['excluded letter Z', '1EG4TE5MZ73'],
    ['dashes in the wrong place', '1EG-4TE5-MK73'],
    ['surrounding space', ' 1EG4TE5MK73'],
    ['empty', ''],
    ['SQL', "1' OR '1'='1"],
  ])('rejects %s', (_why, input) => {
    expect(normalizeMbi(input)).toBeUndefined()
  })

  it('checks each position against the CMS character classes (property)', () => {
    const allowedLetters = 'ACDEFGHJKMNPQRTUVWXY'
    fc.assert(
      fc.property(nearlyMbi, (s) => {
        const u = s.toUpperCase()
        const letter = (c: string) => allowedLetters.includes(c)
        const digit = (c: string) => c >= '0' && c <= '9'
        const expected =
          u[0]! >= '1' &&
          u[0]! <= '9' &&
          (letter(u[1]!) || u[1] === 'S') &&
          (letter(u[2]!) || digit(u[2]!)) &&
          digit(u[3]!) &&
          letter(u[4]!) &&
          (letter(u[5]!) || digit(u[5]!)) &&
          digit(u[6]!) &&
          letter(u[7]!) &&
          letter(u[8]!) &&
          digit(u[9]!) &&
          digit(u[10]!)
        expect(normalizeMbi(s) !== undefined).toBe(expected)
      }),
      { numRuns: 2000 },
    )
  })
})

describe('synthetic MBIs', () => {
  it('are valid, synthetic and distinct for distinct indexes (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: SYNTHETIC_MBI_CAPACITY - 1 }),
        fc.integer({ min: 0, max: SYNTHETIC_MBI_CAPACITY - 1 }),
        (a, b) => {
          const ma = syntheticMbi(a)
          expect(isMbi(ma)).toBe(true)
          expect(ma[1]).toBe('S')
          expect(ma === syntheticMbi(b)).toBe(a === b)
        },
      ),
    )
  })

  it('refuses an index outside its capacity', () => {
    expect(() => syntheticMbi(-1)).toThrow(RangeError)
    expect(() => syntheticMbi(SYNTHETIC_MBI_CAPACITY)).toThrow(RangeError)
  })
})

describe("the partner library's identifier checks", () => {
  it('agree with the gateway on MBIs, dashed forms and near misses', () => {
    const dashed = nearlyMbi.map((s) => `${s.slice(0, 4)}-${s.slice(4, 7)}-${s.slice(7)}`)
    fc.assert(
      fc.property(fc.oneof(nearlyMbi, dashed, fc.string({ maxLength: 14 })), (s) => {
        expect(clientNormalizeMbi(s)).toBe(normalizeMbi(s))
      }),
      { numRuns: 3000 },
    )
  })

  it('agree with the gateway on HICNs', () => {
    const hicnLike = fc
      .tuple(fc.stringMatching(/^[0-9]{8,10}$/), fc.stringMatching(/^[0-9A-Za-z]{0,3}$/))
      .map(([digits, bic]) => digits + bic)
    fc.assert(
      fc.property(fc.oneof(hicnLike, fc.string({ maxLength: 12 })), (s) => {
        expect(clientNormalizeHicn(s)).toBe(normalizeHicn(s))
      }),
      { numRuns: 3000 },
    )
  })
})
