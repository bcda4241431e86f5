import { decodeForLog } from '../log/mask.js'
import { LOG_FORMATS, lineFormat, type LogFormat } from './formats.js'
import { lineBatches, MAX_LINE_BYTES } from './lines.js'
import { findPlaintext, type PlaintextFinding } from './plaintext.js'
import { plainChunks, type Source } from './source.js'
import { findTokens, type Quantum, type TokenInfo } from './tokens.js'

/** Findings kept for the report; more are counted, not listed (memory stays flat). */
export const MAX_LISTED_FINDINGS = 10_000

/** Tokens counted by what their header says. */
export interface TokenTally {
  format: TokenInfo['format']
  kid?: string
  hpkeKeyId?: number
  curve?: string
  suite?: string
  quantum: Quantum
  count: number
}

export interface ScanTotals {
  files: number
  bytes: number
  lines: number
  formats: Record<LogFormat, number>
  tokens: Map<string, TokenTally>
  plaintextCount: number
  findings: PlaintextFinding[]
  /** Read problems, one line each: a file that cannot be read, a line scanned in pieces. */
  problems: string[]
  /** Sources not read to their end. */
  unread: number
}

export function emptyTotals(): ScanTotals {
  const formats = Object.fromEntries(LOG_FORMATS.map((f) => [f, 0])) as Record<LogFormat, number>
  return {
    files: 0,
    bytes: 0,
    lines: 0,
    formats,
    tokens: new Map(),
    plaintextCount: 0,
    findings: [],
    problems: [],
    unread: 0,
  }
}

function tally(totals: ScanTotals, t: TokenInfo): void {
  const key = `${t.format}|${t.kid ?? ''}|${t.hpkeKeyId ?? ''}|${t.curve ?? ''}|${t.suite ?? ''}`
  const row = totals.tokens.get(key)
  if (row) row.count++
  else {
    totals.tokens.set(key, {
      format: t.format,
      ...(t.kid !== undefined ? { kid: t.kid } : {}),
      ...(t.hpkeKeyId !== undefined ? { hpkeKeyId: t.hpkeKeyId } : {}),
      ...(t.curve !== undefined ? { curve: t.curve } : {}),
      ...(t.suite !== undefined ? { suite: t.suite } : {}),
      quantum: t.quantum,
      count: 1,
    })
  }
}

/** One line: its format, its tokens, its plaintext identifiers (in any spelling). */
export function scanLine(totals: ScanTotals, file: string, lineNo: number, line: string): void {
  if (line.length === 0) return
  totals.formats[lineFormat(line)]++
  // As the gateway decodes before masking: %31S00…, %7C, + for a space.
  const decoded =
    line.includes('%') || line.includes('+') ? decodeForLog(line, { query: true }) : line
  const tokens = findTokens(decoded)
  for (const t of tokens) tally(totals, t)
  for (const found of findPlaintext(decoded, tokens)) {
    totals.plaintextCount++
    if (totals.findings.length < MAX_LISTED_FINDINGS) {
      totals.findings.push({ file, line: lineNo, ...found })
    }
  }
}

/** Scans one source to its end; a read error becomes a problem of the report, not a crash. */
export async function scanSource(
  totals: ScanTotals,
  source: Source,
  onRead?: (bytes: number) => void,
): Promise<void> {
  totals.files++
  let lastLine = 0
  const warned = new Set<number>()
  try {
    const chunks = plainChunks(source.stream, (n) => {
      totals.bytes += n
      onRead?.(n)
    })
    for await (const batch of lineBatches(chunks)) {
      const { firstLine, lines } = batch
      if (batch.pieceOfLongLine && !warned.has(firstLine)) {
        warned.add(firstLine)
        totals.problems.push(
          `${source.name}:${firstLine}: line longer than ${MAX_LINE_BYTES} bytes, scanned in pieces of that size (a value cut by a piece boundary is not seen)`,
        )
      }
      for (let i = 0; i < lines.length; i++) scanLine(totals, source.name, firstLine + i, lines[i]!)
      lastLine = Math.max(lastLine, firstLine + lines.length - 1)
    }
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string }
    totals.unread++
    totals.problems.push(`${source.name}: not read to its end: ${readError(code, message)}`)
  } finally {
    totals.lines += lastLine
  }
}

function readError(code: string | undefined, message: string | undefined): string {
  if (code === 'ENOENT') return 'no such file'
  if (code === 'EACCES') return 'permission denied'
  if (code === 'EISDIR') return 'a directory'
  if (code?.startsWith('Z_')) return `not valid gzip (${code})`
  return code ?? message ?? 'read error'
}
