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
/** Where the print form puts a dash, a client may put a dash or a space (`+` once decoded). */
const SEP = '[-\\s]?'
const MBI_SHAPE = `${D}${A}${AN}${D}${SEP}${A}${AN}${D}${SEP}${A}${A}${D}${D}`
const MBI_LIKE = new RegExp(`${EDGE_BEFORE}${MBI_SHAPE}${EDGE_AFTER}`, 'g')

export const MASK = '***MBI***'

/**
 * Anything shaped like a HICN (the identifier before the MBI, searchable when HICN search is on):
 * 9 digits (also dashed 3-2-4, as printed on old cards) and a 1-2 character BIC starting with a
 * letter, any case, with the same edges as above.
 */
const HICN_SHAPE = `${D}{3}${SEP}${D}{2}${SEP}${D}{4}${A}`
const HICN_LIKE = new RegExp(`${EDGE_BEFORE}${HICN_SHAPE}${AN}?${EDGE_AFTER}`, 'g')

export const HICN_MASK = '***HICN***'

const MBI_BARE = new RegExp(MBI_SHAPE)
const HICN_BARE = new RegExp(HICN_SHAPE)

/** An identifier-shaped value found in a text, with its place (for reports; see logscan). */
export interface IdentifierShape {
  kind: 'MBI' | 'HICN'
  /** Offset in the text searched. */
  index: number
  value: string
}

/**
 * Every value the mask would replace, in the order found: the same patterns, so a log scanner
 * finds exactly what the gateway would have masked. Decode percent-escapes first (decodeForLog).
 */
export function findIdentifierShapes(text: string): IdentifierShape[] {
  const found: IdentifierShape[] = []
  // The shapes without their edges first: a necessary condition, and far cheaper to test.
  if (!MBI_BARE.test(text) && !HICN_BARE.test(text)) return found
  for (const m of text.matchAll(MBI_LIKE)) found.push({ kind: 'MBI', index: m.index, value: m[0] })
  for (const m of text.matchAll(HICN_LIKE))
    found.push({ kind: 'HICN', index: m.index, value: m[0] })
  return found
}

export function maskMbis(text: string): string {
  // The shapes without their edges first: every line passes here, and an access line carries a
  // token of up to 1,600 characters at which the edged patterns' look-behind is tried one
  // position at a time (12 of 14 µs per line). Without a bare shape neither edged pattern can
  // match, and the line goes out as it came.
  if (!MBI_BARE.test(text) && !HICN_BARE.test(text)) return text
  return text.replace(MBI_LIKE, MASK).replace(HICN_LIKE, HICN_MASK)
}

/** True when `text` holds anything shaped like an MBI or a HICN, even run into other text. */
export function holdsIdentifier(text: string): boolean {
  const decoded = decodeForLog(text)
  return MBI_BARE.test(decoded) || HICN_BARE.test(decoded)
}

/**
 * Percent-decodes a path or query for logging, so the mask sees what the client meant: `%31S00…`
 * is an MBI too. Each run of escapes is decoded as UTF-8 when it is valid, else byte by byte;
 * in a query, `+` is a space (WHATWG URL, application/x-www-form-urlencoded).
 */
export function decodeForLog(text: string, { query = false } = {}): string {
  const spaced = query ? text.replace(/\+/g, ' ') : text
  return spaced.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run)
    } catch {
      return run.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) =>
        String.fromCharCode(parseInt(hex, 16)),
      )
    }
  })
}
