/**
 * Masks anything that looks like an MBI: canonical, synthetic (`S` in position 2), dashed print
 * form, any letter case. The pattern is deliberately looser than MBI validation (any letter
 * where the format has one), so near-MBIs are masked too. It only matches a run with no letter or
 * digit on either side (a percent-escape before it counts as a separator), so ciphertext is left as
 * received: a JWE segment is never 11 characters long, and a run bounded by `-` or `_` inside one
 * must also fit the digit and letter positions (odds well under one in a million per token).
 */
const EDGE_BEFORE = '(?:(?<![A-Za-z0-9])|(?<=%[0-9A-Fa-f]{2}))'
const EDGE_AFTER = '(?![A-Za-z0-9])'
const A = '[A-Za-z]'
const AN = '[A-Za-z0-9]'
const D = '[0-9]'
const MBI_LIKE = new RegExp(
  `${EDGE_BEFORE}${D}${A}${AN}${D}-?${A}${AN}${D}-?${A}${A}${D}${D}${EDGE_AFTER}`,
  'g',
)

export const MASK = '***MBI***'

/**
 * Anything shaped like a HICN (the identifier before the MBI, searchable when HICN search is on):
 * 9 digits (also dashed 3-2-4, as printed on old cards) and a 1-2 character BIC starting with a
 * letter, any case, with the same edges as above.
 */
const HICN_LIKE = new RegExp(`${EDGE_BEFORE}${D}{3}-?${D}{2}-?${D}{4}${A}${AN}?${EDGE_AFTER}`, 'g')

export const HICN_MASK = '***HICN***'

export function maskMbis(text: string): string {
  return text.replace(MBI_LIKE, MASK).replace(HICN_LIKE, HICN_MASK)
}
