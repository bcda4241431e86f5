/**
 * Health Insurance Claim Number (HICN), the identifier Medicare used before the MBI. The rule
 * applied here (CMS, "Transition to New Medicare Numbers and Cards"; the HICN is the claim
 * account number plus a Beneficiary Identification Code, BIC):
 *
 * - 9 digits: the claim account number;
 * - then the BIC, 1 or 2 characters: a letter, optionally followed by one letter or digit
 *   (`A`, `B1`, `C2`, `HA`, `T`, ...).
 *
 * So `^[0-9]{9}[A-Z][0-9A-Z]?$`, 10 or 11 characters. Lower case is normalised; nothing else is
 * altered (no dashes, no spaces, no trimming). Railroad Retirement Board numbers (a letter prefix
 * then 6 or 9 digits) are not HICNs in this sense and are refused.
 *
 * Synthetic test data uses claim account numbers starting with 9, which the Social Security
 * Administration never issues (the 9xx area is reserved), so a synthetic HICN cannot be real.
 */

const HICN_PATTERN = /^[0-9]{9}[A-Z][0-9A-Z]?$/

export type Hicn = string & { readonly __brand: 'Hicn' }

/**
 * ASCII letters and digits only, checked before `toUpperCase()`, which would fold `ß` into `SS`
 * and U+017F `ſ` into `S`: a HICN matches exactly what was issued.
 */
const ASCII_HICN_INPUT = /^[0-9A-Za-z]{10,11}$/

/** Returns the canonical HICN (upper case), or `undefined` when the input is not a HICN. */
export function normalizeHicn(input: string): Hicn | undefined {
  if (!ASCII_HICN_INPUT.test(input)) return undefined
  const upper = input.toUpperCase()
  return HICN_PATTERN.test(upper) ? (upper as Hicn) : undefined
}

export function isHicn(input: string): input is Hicn {
  return normalizeHicn(input) === input
}

/** BICs cycled through by synthetic HICNs: a spread of one- and two-character codes. */
const SYNTHETIC_BICS = ['A', 'B', 'C1', 'D', 'HA', 'T'] as const

/**
 * A deterministic synthetic HICN: `9`, the index in 8 digits, and a BIC. Distinct indexes give
 * distinct HICNs (the digits differ); the leading 9 marks it as test data.
 */
export function syntheticHicn(index: number): Hicn {
  if (!Number.isSafeInteger(index) || index < 0 || index >= 100_000_000) {
    throw new RangeError(`synthetic HICN index out of range: ${index}`)
  }
  const bic = SYNTHETIC_BICS[index % SYNTHETIC_BICS.length]!
  return `9${String(index).padStart(8, '0')}${bic}` as Hicn
}
