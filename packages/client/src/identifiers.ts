/**
 * The identifier formats the gateway accepts, checked before anything is encrypted so that a
 * typo fails at the partner and not as a search that finds nobody.
 *
 * MBI (CMS, "Understanding the MBI"): 11 characters; positions 1, 4, 7, 10, 11 numeric (1 is
 * 1-9); 2, 5, 8, 9 alphabetic; 3 and 6 alphanumeric; never S, L, O, I, B or Z, except `S` in
 * position 2, which marks synthetic test data. The dashed print form and lower case are
 * normalised. HICN: 9 digits, then a 1-2 character beneficiary identification code starting
 * with a letter.
 */
const ALPHA = '[AC-HJKMNP-RT-Y]'
const ALNUM = '[0-9AC-HJKMNP-RT-Y]'
const MBI_PATTERN = new RegExp(
  `^[1-9](?:${ALPHA}|S)${ALNUM}[0-9]${ALPHA}${ALNUM}[0-9]${ALPHA}${ALPHA}[0-9][0-9]$`,
)
const HICN_PATTERN = /^[0-9]{9}[A-Z][0-9A-Z]?$/

/** The canonical 11-character MBI, or undefined when the input is not a well-formed MBI. */
export function normalizeMbi(input: string): string | undefined {
  if (input.length !== 11 && input.length !== 13) return undefined
  let compact = input
  if (input.length === 13) {
    if (input[4] !== '-' || input[8] !== '-') return undefined
    compact = input.slice(0, 4) + input.slice(5, 8) + input.slice(9)
  }
  const upper = compact.toUpperCase()
  return MBI_PATTERN.test(upper) ? upper : undefined
}

/** The canonical (upper-case) HICN, or undefined when the input is not a HICN. */
export function normalizeHicn(input: string): string | undefined {
  if (input.length !== 10 && input.length !== 11) return undefined
  const upper = input.toUpperCase()
  return HICN_PATTERN.test(upper) ? upper : undefined
}
