import type { LogFormat } from './formats.js'
import type { PlaintextFinding } from './plaintext.js'
import { decryptable, type ScanKeyState, type ScanRing } from './ring.js'
import type { ScanTotals } from './scan.js'

export interface KeyRow {
  /** The ring's kid, or what the tokens name when the ring does not list it. */
  kid: string | null
  hpkeKeyId: number | null
  curve: string
  state: ScanKeyState
  tokens: number
  jwe: number
  hpke: number
  classic: number
  hybrid: number
}

export interface ScanReport {
  ring: string
  files: number
  bytes: number
  lines: number
  formats: Record<LogFormat, number>
  tokens: number
  /** Tokens whose key may still open them: in the ring, not destroyed. */
  decryptable: number
  /** Tokens whose key is destroyed: noise. */
  destroyed: number
  /** Tokens naming a key the ring does not list. */
  unknownKey: number
  /** Token-shaped values whose header is not one of ours. */
  malformed: number
  classic: number
  hybrid: number
  keys: KeyRow[]
  plaintext: { count: number; listed: PlaintextFinding[] }
  problems: string[]
}

export function buildReport(totals: ScanTotals, ring: ScanRing): ScanReport {
  const byKid = new Map(ring.keys.map((k) => [k.kid, k]))
  const byHpke = new Map(ring.keys.flatMap((k) => (k.hpkeKeyId ? [[k.hpkeKeyId, k]] : [])))
  const rows = new Map<string, KeyRow>()
  let malformed = 0
  for (const t of totals.tokens.values()) {
    if (t.format === 'malformed') {
      malformed += t.count
      continue
    }
    const key = t.kid !== undefined ? byKid.get(t.kid) : byHpke.get(t.hpkeKeyId!)
    const id = key ? `kid:${key.kid}` : t.kid ? `kid:${t.kid}` : `hpke:${t.hpkeKeyId}`
    let row = rows.get(id)
    if (!row) {
      row = {
        kid: key?.kid ?? t.kid ?? null,
        hpkeKeyId: key?.hpkeKeyId ?? t.hpkeKeyId ?? null,
        curve: key?.curve ?? t.curve ?? '?',
        state: key?.state ?? 'unknown',
        tokens: 0,
        jwe: 0,
        hpke: 0,
        classic: 0,
        hybrid: 0,
      }
      rows.set(id, row)
    }
    row.tokens += t.count
    row[t.format] += t.count
    if (t.quantum === 'classic') row.classic += t.count
    if (t.quantum === 'hybrid') row.hybrid += t.count
  }
  const keys = [...rows.values()].sort((a, b) => b.tokens - a.tokens)
  const sum = (pick: (r: KeyRow) => boolean) => keys.filter(pick).reduce((n, r) => n + r.tokens, 0)
  return {
    ring: ring.source,
    files: totals.files,
    bytes: totals.bytes,
    lines: totals.lines,
    formats: totals.formats,
    tokens: sum(() => true) + malformed,
    decryptable: sum((r) => decryptable(r.state)),
    destroyed: sum((r) => r.state === 'destroyed'),
    unknownKey: sum((r) => r.state === 'unknown'),
    malformed,
    classic: keys.reduce((n, r) => n + r.classic, 0),
    hybrid: keys.reduce((n, r) => n + r.hybrid, 0),
    keys,
    plaintext: { count: totals.plaintextCount, listed: totals.findings },
    problems: totals.problems,
  }
}

/** The report for people: totals, one line per key, one line per plaintext finding. */
export function renderReport(r: ScanReport): string {
  const formats = Object.entries(r.formats)
    .filter(([, n]) => n > 0)
    .map(([f, n]) => `${f} ${n}`)
    .join(', ')
  const out = [
    `files ${r.files}, ${r.bytes} bytes, ${r.lines} lines (${formats || 'none'})`,
    `ring: ${r.ring}`,
    `identifier tokens: ${r.tokens}`,
    `  still decryptable (key in the ring, not destroyed): ${r.decryptable}`,
    `  key destroyed: ${r.destroyed}`,
    `  key unknown to the ring: ${r.unknownKey}`,
    `  not a token of ours (header unreadable): ${r.malformed}`,
    `  classic (quantum-exposed): ${r.classic}; hybrid: ${r.hybrid}`,
  ]
  if (r.keys.length) {
    out.push(
      '',
      ['kid', 'hpkeKeyId', 'curve', 'state', 'tokens', 'jwe', 'hpke', 'classic'].join('\t'),
    )
    for (const k of r.keys) {
      out.push(
        [
          k.kid ?? '-',
          k.hpkeKeyId ?? '-',
          k.curve,
          k.state,
          k.tokens,
          k.jwe,
          k.hpke,
          k.classic,
        ].join('\t'),
      )
    }
  }
  out.push('', `plaintext identifiers: ${r.plaintext.count}`)
  for (const f of r.plaintext.listed) out.push(`  ${f.file}:${f.line}: ${f.kind} ${f.masked}`)
  if (r.plaintext.count > r.plaintext.listed.length) {
    out.push(`  (${r.plaintext.count - r.plaintext.listed.length} more not listed)`)
  }
  for (const p of r.problems) out.push(`problem: ${p}`)
  return out.join('\n') + '\n'
}
