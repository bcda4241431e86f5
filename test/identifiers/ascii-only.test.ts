/**
 * MBI and HICN validation is ASCII-only before any case folding: Unicode case-folding pairs,
 * full-width digits and letters, zero-width characters, combining marks and confusables are
 * refused, never folded onto a valid identifier.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { normalizeHicn } from '../../src/identifiers/hicn.js'
import { normalizeMbi } from '../../src/identifiers/mbi.js'
import { syntheticHicn } from '../../src/identifiers/hicn.js'
import { SYNTHETIC_MBI_CAPACITY, syntheticMbi } from '../../src/identifiers/synthetic.js'
import { spoofed } from '../support/lookalikes.js'

const mbi = fc.nat({ max: SYNTHETIC_MBI_CAPACITY - 1 }).map((i) => syntheticMbi(i) as string)
const hicn = fc.nat({ max: 99_999_999 }).map((i) => syntheticHicn(i) as string)
const lower = (s: string) => s.toLowerCase()
const dashed = (m: string) => `${m.slice(0, 4)}-${m.slice(4, 7)}-${m.slice(7)}`

describe('identifiers are ASCII-exact', () => {
  it.each([
    ['1\u017f00A00AA00', 'U+017F long s, which upper-cases to S'],
    ['1S00A00AA0\uff10', 'a full-width zero'],
    ['1S00A00AA00\u200b', 'a trailing zero-width space'],
    ['1S00\u200bA00AA0', 'a zero-width space in place of a character'],
    ['1S\u03000A00AA00', 'a combining grave accent'],
    ['1\u0405\u0030\u0030A00AA00', 'a Cyrillic capital DZE in place of S'],
    ['1S00\u2010A00\u2010AA00', 'a Unicode hyphen where the dashes go'],
  ])('refuses the MBI %j (%s)', (input) => {
    expect(normalizeMbi(input)).toBeUndefined()
  })

  it('refuses the HICN 900000000ß, which upper-cases to 900000000SS', () => {
    expect(normalizeHicn('900000000SS')).toBe('900000000SS')
    expect(normalizeHicn('900000000\u00df')).toBeUndefined()
    expect(normalizeHicn('90000000\uff10A')).toBeUndefined()
    expect(normalizeHicn('900000000\u017f')).toBeUndefined()
  })

  it('still normalises ASCII lower case and the dashed print form', () => {
    expect(normalizeMbi('1eg4-te5-mk73')).toBe('1EG4TE5MK73')
    expect(normalizeHicn('900000000a')).toBe('900000000A')
  })

  it('never accepts a spoofed spelling of a valid MBI, in any case or form', () => {
    fc.assert(
      fc.property(
        mbi.chain((m) =>
          fc.tuple(fc.constant(m), spoofed(m), spoofed(lower(m)), spoofed(dashed(m))),
        ),
        ([, a, b, c]) => {
          for (const s of [a, b, c]) expect(normalizeMbi(s)).toBeUndefined()
        },
      ),
      { numRuns: 2000 },
    )
  })

  it('never accepts a spoofed spelling of a valid HICN', () => {
    fc.assert(
      fc.property(
        hicn.chain((h) => fc.tuple(spoofed(h), spoofed(lower(h)))),
        ([a, b]) => {
          expect(normalizeHicn(a)).toBeUndefined()
          expect(normalizeHicn(b)).toBeUndefined()
        },
      ),
      { numRuns: 2000 },
    )
  })

  it('accepts only strings of ASCII letters, digits and the two print-form dashes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 10, maxLength: 13 }), (s) => {
        const out = normalizeMbi(s)
        if (out !== undefined) expect(s).toMatch(/^[0-9A-Za-z-]+$/)
        const h = normalizeHicn(s)
        if (h !== undefined) expect(s).toMatch(/^[0-9A-Za-z]+$/)
      }),
      { numRuns: 5000 },
    )
  })
})
