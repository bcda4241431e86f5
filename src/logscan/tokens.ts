/**
 * Identifier tokens in a log line, told apart by shape as the gateway does (docs/TOKENS.md): five
 * base64url segments joined by `.` are JWE compact (RFC 7516 §7.1), one base64url run is an HPKE
 * token. Only the headers are read (the JWE protected header, the HPKE token's first 9 bytes):
 * they name the key and the suite; nothing is decrypted.
 */

/** Longer runs are not tokens the gateway would take (MAX_TOKEN_LENGTH is 1024): not parsed. */
export const MAX_SCANNED_TOKEN_LENGTH = 4096
/** A JWE protected header longer than this is not one of ours (they are under 300 characters). */
const MAX_JWE_HEADER_LENGTH = 2048

/**
 * A token follows the `|` of `system|value` (or `identifier=` when the system is left out), as
 * the gateway logs it and as a proxy logs it once percent-decoded (`%7C`). HPKE tokens are at
 * least 91 characters; 40 keeps short `|`-separated values of other fields out.
 */
const TOKEN = /[|=]([A-Za-z0-9_-]{40,}(?:\.[A-Za-z0-9_-]*){0,4})/g

/** Post-quantum resistance of the key agreement a token was sealed with. */
export type Quantum = 'classic' | 'hybrid' | 'unknown'

export interface TokenInfo {
  format: 'jwe' | 'hpke' | 'malformed'
  kid?: string
  hpkeKeyId?: number
  /** The curve of the ephemeral key (JWE epk.crv) or of the HPKE KEM. */
  curve?: string
  /** The JWE alg, or the HPKE KEM as `DHKEM(P-256)`. */
  suite?: string
  quantum: Quantum
  /** Where the token starts and ends in the line searched. */
  start: number
  end: number
}

/**
 * HPKE KEM ids (IANA "HPKE KEM Identifiers"): DHKEM over an elliptic curve is classic; X-Wing
 * (0x647A, draft-connolly-cfrg-xwing-kem) and ML-KEM hybrids (0x0050, 0x0051) are hybrid.
 */
const KEMS: Record<number, { curve: string; quantum: Quantum }> = {
  0x0010: { curve: 'P-256', quantum: 'classic' },
  0x0011: { curve: 'P-384', quantum: 'classic' },
  0x0012: { curve: 'P-521', quantum: 'classic' },
  0x0020: { curve: 'X25519', quantum: 'classic' },
  0x0021: { curve: 'X448', quantum: 'classic' },
  0x0050: { curve: 'ML-KEM-768+P-256', quantum: 'hybrid' },
  0x0051: { curve: 'ML-KEM-1024+P-384', quantum: 'hybrid' },
  0x647a: { curve: 'X-Wing', quantum: 'hybrid' },
}

const KID = /"kid"\s*:\s*"([^"\\]*)"/
const ALG = /"alg"\s*:\s*"([^"\\]*)"/
const CRV = /"crv"\s*:\s*"([^"\\]*)"/

function member(header: string, pattern: RegExp): string | undefined {
  return pattern.exec(header)?.[1]
}

function countDots(token: string): number {
  let n = 0
  for (let i = token.indexOf('.'); i !== -1; i = token.indexOf('.', i + 1)) n++
  return n
}

function jweInfo(token: string, start: number, end: number): TokenInfo {
  const malformed: TokenInfo = { format: 'malformed', quantum: 'unknown', start, end }
  const dot = token.indexOf('.')
  if (countDots(token) !== 4 || dot > MAX_JWE_HEADER_LENGTH) return malformed
  // The members are read by pattern, not JSON.parse: a report needs three short strings, and
  // this is the scanner's hottest step. A header that is not a JSON object is malformed.
  const header = Buffer.from(token.slice(0, dot), 'base64url').toString('latin1')
  if (header[0] !== '{' || header[header.length - 1] !== '}') return malformed
  const kid = member(header, KID)
  const alg = member(header, ALG)
  const crv = member(header, CRV)
  if (kid === undefined || kid.length > 128) return malformed
  const ecdh = alg !== undefined && alg.startsWith('ECDH-ES')
  return {
    format: 'jwe',
    kid,
    ...(crv ? { curve: crv.slice(0, 16) } : {}),
    ...(alg !== undefined ? { suite: alg.slice(0, 32) } : {}),
    // RFC 7518 §4.6 and RFC 8037: ECDH-ES over P-256 or X25519 is classic key agreement.
    quantum: ecdh ? 'classic' : 'unknown',
    start,
    end,
  }
}

function hpkeInfo(token: string, start: number, end: number): TokenInfo {
  const malformed: TokenInfo = { format: 'malformed', quantum: 'unknown', start, end }
  // 12 base64url characters are the 9 header bytes (docs/TOKENS.md, Layout).
  const header = Buffer.from(token.slice(0, 12), 'base64url')
  if (header.length < 9 || (header[0] !== 0x02 && header[0] !== 0x03)) return malformed
  const hpkeKeyId = header.readUInt16BE(1)
  const kem = header.readUInt16BE(3)
  const known = KEMS[kem]
  return {
    format: 'hpke',
    hpkeKeyId,
    ...(known ? { curve: known.curve } : {}),
    suite: `KEM 0x${kem.toString(16).padStart(4, '0')}`,
    quantum: known?.quantum ?? 'unknown',
    start,
    end,
  }
}

/** Every identifier token in `line` (already percent-decoded), with what its header says. */
export function findTokens(line: string): TokenInfo[] {
  const found: TokenInfo[] = []
  for (const m of line.matchAll(TOKEN)) {
    if (m[0][0] === '=' && !line.endsWith('identifier', m.index)) continue
    const token = m[1]!
    const start = m.index + m[0].length - token.length
    const end = start + token.length
    if (token.length > MAX_SCANNED_TOKEN_LENGTH) {
      found.push({ format: 'malformed', quantum: 'unknown', start, end })
    } else
      found.push(token.includes('.') ? jweInfo(token, start, end) : hpkeInfo(token, start, end))
  }
  return found
}
