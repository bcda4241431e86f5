import { findIdentifierShapes } from '../log/mask.js'

/** A plaintext identifier found in a log: where, what kind, and its spelling, never its value. */
export interface PlaintextFinding {
  file: string
  line: number
  kind: 'MBI' | 'HICN'
  /**
   * The value masked: every letter `A`, every digit `9`, separators kept (`9AA9-AA9-AA99`), so
   * the report says how it was written without repeating it.
   */
  masked: string
}

export function maskValue(value: string): string {
  return value
    .replace(/[A-Za-z]/g, 'A')
    .replace(/[0-9]/g, '9')
    .replace(/\s/g, ' ')
}

/**
 * The plaintext identifiers of one decoded line, found with the gateway's own mask patterns.
 * Token spans are left out (the text between them is searched, each piece on its own, as if the
 * token were a space): a run inside ciphertext is not a logged identifier.
 */
export function findPlaintext(
  decoded: string,
  tokenSpans: readonly { start: number; end: number }[],
): { kind: 'MBI' | 'HICN'; masked: string }[] {
  const found: { kind: 'MBI' | 'HICN'; masked: string }[] = []
  let from = 0
  for (const span of [...tokenSpans, { start: decoded.length, end: decoded.length }]) {
    if (span.start > from) {
      for (const { kind, value } of findIdentifierShapes(decoded.slice(from, span.start))) {
        found.push({ kind, masked: maskValue(value) })
      }
    }
    from = span.end
  }
  return found
}
