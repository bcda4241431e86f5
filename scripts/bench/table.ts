/**
 * The tables `npm run bench` prints: each row's rate against the floor (plain node:http,
 * postgres.js, the same lookup SQL) and against the gateway's own plaintext baseline (a), both
 * measured in the same run; and the verdicts on the targets.
 */
import type { FixedRate, Measured } from './wrk.js'

export interface Row extends Measured {
  name: string
  /** Microseconds of the server's main-thread CPU per request (scripts/bench/cpu.ts). */
  cpuUs?: number
  /** Microseconds of CPU per request of the PostgreSQL processes on this machine. */
  postgresUs?: number
  /** The share of the whole machine's CPU that was busy during the row (0 to 1). */
  busy?: number
}

export const FLOOR = '(floor) node:http + postgres.js, the same lookup SQL'
export const BASELINE = '(a) plaintext POST search (baseline)'

/**
 * A reference measured first and again last in a table: the larger rate is used, so a server
 * still warming up (JIT, pool, caches) during its first row never flatters the ratios.
 */
export function referenceRate(rows: Row[], prefix: string): number | undefined {
  return referenceRow(rows, prefix)?.rps
}

/** The run of `prefix` with the larger rate (see referenceRate). */
export function referenceRow(rows: Row[], prefix: string): Row | undefined {
  let best: Row | undefined
  for (const r of rows) if (r.name.startsWith(prefix) && (!best || r.rps > best.rps)) best = r
  return best
}

const percent = (rate: number, of: number | undefined) =>
  of ? `${((rate / of) * 100).toFixed(0)}%` : ''
const ms = (v: number) => (v < 10 ? v.toFixed(1) : v.toFixed(0))

export function table(rows: Row[]): string {
  const floor = referenceRate(rows, '(floor)')
  const baseline = referenceRate(rows, '(a)')
  const lines = [
    '| | requests/s | p50 ms | p99 ms | errors | CPU µs/request | PostgreSQL µs/request | machine busy | vs (a) | vs floor |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ]
  for (const r of rows) {
    const reference = r.name.startsWith('(a)') || r.name.startsWith('(floor)')
    const vsA = reference || r.name.startsWith('(f)') ? '' : percent(r.rps, baseline)
    const vsFloor = r.name.startsWith('(floor)') ? '' : percent(r.rps, floor)
    lines.push(
      `| ${r.name} | ${r.rps.toFixed(0)} | ${ms(r.p50)} | ${ms(r.p99)} | ${r.errors} | ${r.cpuUs?.toFixed(0) ?? ''} | ${r.postgresUs?.toFixed(0) ?? ''} | ${r.busy === undefined ? '' : `${(r.busy * 100).toFixed(0)}%`} | ${vsA} | ${vsFloor} |`,
    )
  }
  return lines.join('\n')
}

/** The targets against the floor, one process: [row prefix, what, least share of the floor]. */
export const FLOOR_TARGETS = [
  ['(a)', 'plaintext POST search', 0.8],
  ['(c)', 'JWE X25519 GET', 0.75],
  ['(b)', 'JWE P-256 GET', 0.7],
  ['(e)', 'HPKE X25519 GET', 0.75],
  ['(i)', 'read by id', 0.85],
] as const

/**
 * What a rate leaves a one-process gateway: at `rate` requests/s its main thread, which serves
 * every request, can spend at most 1,000,000 / rate microseconds of CPU on each (a whole core).
 */
export function cpuBudgetUs(rate: number): number {
  return 1e6 / rate
}

/** For a miss: the CPU per request `rate` allows one core, against what `row` spent. */
function budgetNote(row: Row, rate: number): string {
  if (row.cpuUs === undefined) return ''
  return `; at ${rate.toFixed(0)}/s one core allows ${cpuBudgetUs(rate).toFixed(0)} µs per request, this row spent ${row.cpuUs.toFixed(0)}`
}

/**
 * Each target's ratio to a reference (the larger of its runs) and PASS or MISS. `slack` lowers
 * every target (0.9: "within 10%", for the gateway with its access log and audit trail on). Where
 * the row's CPU per request was measured, a miss also says what the target leaves: the most
 * main-thread CPU per request one core can spend at the target's rate, against what the row spent.
 */
function ratioVerdicts(
  rows: Row[],
  reference: { prefix: string; name: string },
  targets: readonly (readonly [string, string, number])[],
  slack: number,
): string[] {
  const of = referenceRate(rows, reference.prefix)
  if (!of) return []
  return targets.flatMap(([prefix, what, target]) => {
    const row = referenceRow(rows, prefix)
    if (row === undefined) return []
    const ratio = row.rps / of
    const bar = target * slack
    const pass = ratio >= bar
    const budget = pass ? '' : budgetNote(row, bar * of)
    return [
      `${what} ${ratio.toFixed(2)} of the ${reference.name} (target ${bar.toFixed(2)}: ${pass ? 'PASS' : 'MISS'}${budget})`,
    ]
  })
}

/** The floor targets' verdicts (see ratioVerdicts). */
export function floorVerdicts(rows: Row[], slack = 1): string[] {
  return ratioVerdicts(rows, { prefix: '(floor)', name: 'floor' }, FLOOR_TARGETS, slack)
}

export const XWING_ROW = '(j) GET HPKE X-Wing (hybrid post-quantum)'

/** The targets against the plaintext baseline (a), one process: the hybrid token's GET. */
export const BASELINE_TARGETS = [['(j)', 'HPKE X-Wing (hybrid) GET', 0.7]] as const

/** The baseline targets' verdicts, against (a) (see ratioVerdicts). */
export function baselineVerdicts(rows: Row[], slack = 1): string[] {
  return ratioVerdicts(rows, { prefix: '(a)', name: 'baseline' }, BASELINE_TARGETS, slack)
}

/**
 * Whether the gateway served the end of a table as cheaply as its start: the plaintext baseline's
 * main-thread CPU per request in its last run against its first (a gateway that grows slower the
 * longer it serves shows here, even when the floor's ratios are read off its best run). Steady
 * within `tolerance` (15%: the run-to-run spread on a quiet machine is about 10%).
 */
export function steadyVerdict(rows: Row[], tolerance = 0.15): string | undefined {
  const runs = rows.filter((r) => r.name.startsWith('(a)') && r.cpuUs !== undefined)
  const first = runs[0]
  const last = runs[runs.length - 1]
  if (runs.length < 2 || !first?.cpuUs || !last?.cpuUs) return undefined
  const ratio = last.cpuUs / first.cpuUs
  return `plaintext POST search, CPU per request at the end of the table ${last.cpuUs.toFixed(0)} µs against ${first.cpuUs.toFixed(0)} µs at its start: ${ratio.toFixed(2)}x (steady within ${1 + tolerance}x: ${ratio <= 1 + tolerance ? 'PASS' : 'MISS'})`
}

/**
 * The cluster target: its plaintext search at least `factor` times the one-process rate. A miss
 * says how busy the machine was in each, where measured: workers cannot gain on cores that are
 * already busy.
 */
export function clusterVerdict(one: Row[], cluster: Row[], workers: number, factor = 1.3): string {
  const oneRow = referenceRow(one, '(a)')
  const clusterRow = referenceRow(cluster, '(a)')
  const a = oneRow?.rps ?? 0
  const ratio = a ? (clusterRow?.rps ?? 0) / a : 0
  const pass = ratio >= factor
  const busy = (r: Row | undefined) =>
    r?.busy === undefined ? undefined : `${(r.busy * 100).toFixed(0)}%`
  const load =
    !pass && busy(clusterRow) && busy(oneRow)
      ? `; the machine was ${busy(clusterRow)} busy, ${busy(oneRow)} with one process`
      : ''
  return `plaintext POST search, ${workers} workers: ${ratio.toFixed(2)}x one process (target ${factor}x: ${pass ? 'PASS' : 'MISS'}${load})`
}

/** The latency target at a fixed offered rate: p99 under `p99Ms`. */
export function rateRow(rows: number, r: FixedRate, p99Ms = 20): string {
  const verdict = r.p99 < p99Ms && r.errors === 0 ? 'PASS' : 'MISS'
  return `| ${rows.toLocaleString('en-US')} | ${r.offered} | ${r.achieved.toFixed(0)} | ${ms(r.p50)} | ${ms(r.p90)} | ${ms(r.p99)} | ${ms(r.max)} | ${r.errors} | ${verdict} |`
}

export const RATE_HEADER = [
  '| rows | offered/s | achieved/s | p50 ms | p90 ms | p99 ms | max ms | errors | p99 < 20 ms |',
  '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
].join('\n')
