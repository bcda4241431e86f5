import fc from 'fast-check'

/**
 * Characters that are not ASCII letters or digits but look like one, or fold onto one: the
 * spellings an identifier must never be matched by (the Blue Button lesson: an identifier
 * matches exactly what was issued).
 */
export const CASE_FOLDING = [
  '\u017f', // ſ LATIN SMALL LETTER LONG S: upper case is S
  '\u0131', // ı LATIN SMALL LETTER DOTLESS I: upper case is I
  '\u212a', // K KELVIN SIGN: lower case is k
  '\u212b', // Å ANGSTROM SIGN
  '\u00df', // ß: upper case is SS
  '\ufb00', // ﬀ LATIN SMALL LIGATURE FF: upper case is FF
  '\u0130', // İ LATIN CAPITAL LETTER I WITH DOT ABOVE
]
export const FULL_WIDTH = [...'０１２３４５６７８９ＡＣＥＦＧＨＭＮＰＲＴＵＶＷＸＹｓｅｆ']
export const ZERO_WIDTH = ['\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u00ad']
export const COMBINING = ['\u0301', '\u0300', '\u0308', '\u0327', '\u20dd']
export const CONFUSABLES = [
  ...'АВСЕНКМОРТХ', // Cyrillic capitals that look like Latin ones
  ...'асеорху', // Cyrillic small letters
  ...'ΑΒΕΗΚΜΝΟΡΤΧΥ', // Greek capitals
  '\u0661', // ARABIC-INDIC DIGIT ONE
  '\u0966', // DEVANAGARI DIGIT ZERO
  '\u2460', // ① CIRCLED DIGIT ONE
  '\u00b9', // ¹ SUPERSCRIPT ONE
  '\u2012', // ‒ FIGURE DASH, where a dash goes
  '\u2010', // ‐ HYPHEN
  '\u00a0', // NO-BREAK SPACE
]

export const LOOKALIKES = [...CASE_FOLDING, ...FULL_WIDTH, ...CONFUSABLES]
export const INVISIBLES = [...ZERO_WIDTH, ...COMBINING]

/**
 * A valid identifier spelled with lookalikes: one or more characters replaced by a lookalike,
 * and/or an invisible character inserted. Always differs from `id` in its code points.
 */
export function spoofed(id: string): fc.Arbitrary<string> {
  const chars = [...id]
  const replace = fc
    .tuple(fc.nat({ max: chars.length - 1 }), fc.constantFrom(...LOOKALIKES))
    .map(([i, c]) => [...chars.slice(0, i), c, ...chars.slice(i + 1)].join(''))
  const insert = fc
    .tuple(fc.nat({ max: chars.length }), fc.constantFrom(...INVISIBLES))
    .map(([i, c]) => [...chars.slice(0, i), c, ...chars.slice(i)].join(''))
  const both = fc
    .tuple(
      fc.nat({ max: chars.length - 1 }),
      fc.constantFrom(...LOOKALIKES),
      fc.constantFrom(...INVISIBLES),
    )
    .map(([i, c, z]) => [...chars.slice(0, i), c, z, ...chars.slice(i + 1)].join(''))
  return fc.oneof(replace, insert, both)
}
