/**
 * Medicare Beneficiary Identifier (MBI) format, per CMS "Understanding the MBI":
 * 11 characters; positions 1, 4, 7, 10, 11 numeric (1 is 1-9); positions 2, 5, 8, 9 alphabetic;
 * positions 3 and 6 alphanumeric. Letters S, L, O, I, B and Z are never used.
 *
 * Synthetic test data (BFD's synthetic beneficiaries) uses `S` in position 2, which no real MBI
 * can have, so a synthetic identifier can never collide with a real one. We accept that form too.
 */

const ALPHA = '[AC-HJKMNP-RT-Y]'
const ALNUM = '[0-9AC-HJKMNP-RT-Y]'
const MBI_PATTERN = new RegExp(
  `^[1-9](?:${ALPHA}|S)${ALNUM}[0-9]${ALPHA}${ALNUM}[0-9]${ALPHA}${ALPHA}[0-9][0-9]$`,
)

/** Longest input we even look at: the 13-character dashed print form. */
export const MBI_MAX_INPUT_LENGTH = 13

export type Mbi = string & { readonly __brand: 'Mbi' }

/**
 * The only inputs case folding may touch: ASCII letters and digits, compact or in the dashed
 * print form. Checked before `toUpperCase()`, which maps non-ASCII characters onto ASCII ones
 * (U+017F `ſ` to `S`, U+0131 `ı` to `I`, `ß` to `SS`): an identifier must match exactly what was
 * issued, never a spelling that folds onto it.
 */
const ASCII_MBI_INPUT = /^(?:[0-9A-Za-z]{11}|[0-9A-Za-z]{4}-[0-9A-Za-z]{3}-[0-9A-Za-z]{4})$/

/**
 * Returns the canonical 11-character MBI, or `undefined` when the input is not a well-formed MBI.
 * ASCII lower case and the dashed print form (`1EG4-TE5-MK73`) are normalised; nothing else is
 * altered: no trimming, no guessing, no truncation, no Unicode folding.
 */
export function normalizeMbi(input: string): Mbi | undefined {
  if (!ASCII_MBI_INPUT.test(input)) return undefined
  let compact = input
  if (input.length === MBI_MAX_INPUT_LENGTH) {
    compact = input.slice(0, 4) + input.slice(5, 8) + input.slice(9)
  }
  const upper = compact.toUpperCase()
  return MBI_PATTERN.test(upper) ? (upper as Mbi) : undefined
}

export function isMbi(input: string): input is Mbi {
  return normalizeMbi(input) === input
}

/** True for the synthetic form (`S` in position 2), which only test data uses. */
export function isSyntheticMbi(mbi: Mbi): boolean {
  return mbi[1] === 'S'
}
