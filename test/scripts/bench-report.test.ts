import { execFile, spawn } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { promisify } from 'node:util'
import * as prettier from 'prettier'
import { describe, expect, it } from 'vitest'
import {
  cpuPerRequestUs,
  machineBusy,
  machineTicks,
  mainThreadCpuNs,
  parseProcStat,
  postgresCpu,
  postgresUsPerRequest,
} from '../../scripts/bench/cpu.js'
import { BEGIN, END, replaceGenerated, writeGenerated } from '../../scripts/bench/report.js'
import {
  BASELINE,
  baselineVerdicts,
  clusterVerdict,
  cpuBudgetUs,
  FLOOR,
  floorVerdicts,
  steadyVerdict,
  rateRow,
  table,
  type Row,
} from '../../scripts/bench/table.js'
import {
  buildRateTool,
  runWrk,
  writeWrkScript,
  type BenchRequest,
  type FixedRate,
} from '../../scripts/bench/wrk.js'
import { tempDir } from '../support/temp.js'

const exec = promisify(execFile)

/** What the bench generates: a heading and a table as it comes, unaligned. */
const GENERATED = `Measured 2030-01-01 with \`npm run bench -- --smoke\`

### 2,000 rows, one process, 4 connections, 1 s per row

| | requests/s | p50 ms | p99 ms | errors | vs (a) |
| --- | ---: | ---: | ---: | ---: | ---: |
| (a) plaintext POST search (baseline) | 1234 | 3 | 9 | 0 | |
| (b) GET JWE ECDH-ES P-256 | 999 | 4 | 11 | 0 | 81% |
`

describe('the bench report in BENCHMARKS.md', () => {
  it('replaces only the text between the markers, and the file passes prettier', async () => {
    const original = await readFile('BENCHMARKS.md', 'utf8')
    const file = join(await tempDir(), 'BENCHMARKS.md')
    await writeFile(file, original)
    await writeGenerated(file, GENERATED)
    const written = await readFile(file, 'utf8')

    const outside = (text: string) => [
      text.slice(0, text.indexOf(BEGIN)),
      text.slice(text.indexOf(END)),
    ]
    expect(outside(written)).toEqual(outside(original))
    expect(written).toContain('Measured 2030-01-01')
    expect(written).toMatch(/\| \(b\) GET JWE ECDH-ES P-256 +\| +999 \|/)
    expect(written).not.toContain('Measured 2026-11-23')
    const options = (await prettier.resolveConfig(file)) ?? {}
    expect(await prettier.check(written, { ...options, filepath: file })).toBe(true)

    // A second run replaces the first one's results, not adds to them.
    await writeGenerated(file, GENERATED.replace('2030-01-01', '2030-01-02'))
    const again = await readFile(file, 'utf8')
    expect(again.match(/Measured 2030/g)).toHaveLength(1)
    expect(outside(again)).toEqual(outside(original))
  })

  it('refuses a file without the markers rather than overwrite it', () => {
    expect(() => replaceGenerated('# Benchmarks\n\nhand-written\n', GENERATED, 'B.md')).toThrow(
      /B\.md has no .* markers/,
    )
  })
})

const row = (name: string, rps: number): Row => ({
  name,
  rps,
  p50: 1,
  p99: 2,
  errors: 0,
  requests: rps * 10,
})

describe('the bench tables', () => {
  const rows = [
    row(FLOOR, 4000),
    row(BASELINE, 3000),
    row('(b) GET JWE ECDH-ES P-256', 2400),
    row('(c) GET JWE ECDH-ES X25519', 3100),
    row('(f) GET /v2/fhir/metadata (static)', 9000),
    row('(i) GET /v2/fhir/Patient/<id> (read by id)', 3500),
    row(`${BASELINE}, again at the end`, 3200),
    row(`${FLOOR}, again at the end`, 5000),
  ]

  it('gives every row its ratio to the floor and to (a), each the larger of its two runs', () => {
    const lines = table(rows).split('\n')
    const cells = (prefix: string) =>
      lines
        .find((l) => l.startsWith(`| ${prefix}`))!
        .split('|')
        .map((c) => c.trim())
    // The floor is 5,000 (its second run), the baseline 3,200 (its second run).
    expect(cells('(b)').slice(-3, -1)).toEqual(['75%', '48%'])
    expect(cells('(a) plaintext POST search (baseline) |').slice(-3, -1)).toEqual(['', '60%'])
    expect(cells('(f)').slice(-3, -1)).toEqual(['', '180%'])
    expect(cells('(floor) node:http + postgres.js, the same lookup SQL |').slice(-3, -1)).toEqual([
      '',
      '',
    ])
  })

  it("gives a row its main thread's CPU per request where it was measured", () => {
    const lines = table([{ ...row(FLOOR, 4000), cpuUs: 71.6 }, row(BASELINE, 3000)]).split('\n')
    expect(lines[0]).toContain('| CPU µs/request |')
    expect(lines[2]!.split('|').map((c) => c.trim())[6]).toBe('72')
    expect(lines[3]!.split('|').map((c) => c.trim())[6]).toBe('')
  })

  it("gives a row PostgreSQL's CPU per request and how busy the machine was, where measured", () => {
    const lines = table([
      { ...row(FLOOR, 4000), postgresUs: 45.6, busy: 0.834 },
      row(BASELINE, 3000),
    ]).split('\n')
    expect(lines[0]).toContain('| PostgreSQL µs/request | machine busy |')
    const cells = (line: string) => line.split('|').map((c) => c.trim())
    expect(cells(lines[2]!).slice(7, 9)).toEqual(['46', '83%'])
    expect(cells(lines[3]!).slice(7, 9)).toEqual(['', ''])
  })

  it('reads how busy the machine was from /proc/stat', async () => {
    // user nice system idle iowait irq softirq steal guest guest_nice
    const stat = 'cpu  100 10 40 800 50 0 0 0 5 0\ncpu0 50 5 20 400 25 0 0 0 0 0\n'
    expect(parseProcStat(stat)).toEqual({ busy: 150, total: 1000 })
    expect(parseProcStat('intr 1 2 3\n')).toBeUndefined()
    expect(parseProcStat('cpu  1 2 x 4 5 6 7 8\n')).toBeUndefined()
    expect(machineBusy({ busy: 150, total: 1000 }, { busy: 450, total: 1400 })).toBe(0.75)
    expect(machineBusy({ busy: 150, total: 1000 }, { busy: 150, total: 1000 })).toBeUndefined()
    expect(machineBusy(undefined, { busy: 1, total: 2 })).toBeUndefined()
    // This machine's own reading: busy never exceeds the total, and both grow.
    const before = (await machineTicks())!
    const spin = performance.now() + 30
    while (performance.now() < spin);
    const after = (await machineTicks())!
    expect(before.busy).toBeLessThanOrEqual(before.total)
    expect(after.total).toBeGreaterThanOrEqual(before.total)
    expect(after.busy).toBeGreaterThan(before.busy)
  })

  it("adds up PostgreSQL's CPU per process between two readings", async () => {
    const before = new Map([
      ['10', 5_000_000],
      ['11', 1_000_000],
      ['12', 9_000_000],
    ])
    // 10 ran 3 ms more; 11 ended; 12 was reused by a process that has run 2 ms; 13 started (1 ms).
    const after = new Map([
      ['10', 8_000_000],
      ['12', 2_000_000],
      ['13', 1_000_000],
    ])
    expect(postgresUsPerRequest(before, after, 1000)).toBe(6)
    expect(postgresUsPerRequest(undefined, after, 1000)).toBeUndefined()
    expect(postgresUsPerRequest(before, after, 0)).toBeUndefined()
    // A real server on this machine (DATABASE_URL at loopback, as .ci/run sets it): its
    // processes are found, each with the time it has run.
    const url = process.env.DATABASE_URL
    const found = await postgresCpu()
    if (url && /@(127\.0\.0\.1|localhost)[:/]/.test(url)) expect(found?.size).toBeGreaterThan(0)
    for (const [pid, ns] of found ?? []) {
      expect(pid).toMatch(/^\d+$/)
      expect(ns).toBeGreaterThan(0)
    }
  })

  it("reads the main thread's CPU time from /proc, and divides it by the requests", async () => {
    // A process that spends at least 50 ms of CPU on its main thread, says so, and waits.
    const child = spawn(
      process.execPath,
      [
        '-e',
        'const t = process.cpuUsage(); while (process.cpuUsage(t).user < 50000); console.log("spent"); setTimeout(() => {}, 10000)',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    )
    try {
      await new Promise((resolve) => child.stdout!.once('data', resolve))
      expect(await mainThreadCpuNs(child.pid)).toBeGreaterThanOrEqual(50e6)
    } finally {
      child.kill()
    }
    expect(cpuPerRequestUs(1_000_000, 3_000_000, 1000)).toBe(2)
    expect(cpuPerRequestUs(undefined, 3_000_000, 1000)).toBeUndefined()
    expect(cpuPerRequestUs(0, 1, 0)).toBeUndefined()
    expect(await mainThreadCpuNs(undefined)).toBeUndefined()
  })

  it('says, for a miss, the CPU per request the target allows one core against what was spent', () => {
    expect(cpuBudgetUs(8000)).toBe(125)
    const measured = rows.map((r) =>
      r.name.startsWith('(b)')
        ? { ...r, cpuUs: 194.4 }
        : r.name.startsWith('(c)')
          ? { ...r, rps: 3800, cpuUs: 150 }
          : r,
    )
    // The floor is 5,000: P-256's target 0.70 is 3,500/s, which leaves 286 µs per request.
    expect(floorVerdicts(measured)).toContain(
      'JWE P-256 GET 0.48 of the floor (target 0.70: MISS; at 3500/s one core allows 286 µs per request, this row spent 194)',
    )
    // A pass says nothing more.
    expect(floorVerdicts(measured)).toContain(
      'JWE X25519 GET 0.76 of the floor (target 0.75: PASS)',
    )
    const hybrid = [
      row(BASELINE, 7000),
      { ...row('(j) GET HPKE X-Wing (hybrid post-quantum)', 3000), cpuUs: 291 },
    ]
    expect(baselineVerdicts(hybrid)).toEqual([
      'HPKE X-Wing (hybrid) GET 0.43 of the baseline (target 0.70: MISS; at 4900/s one core allows 204 µs per request, this row spent 291)',
    ])
  })

  it('judges the targets against the floor, lowered by the slack for logging', () => {
    expect(floorVerdicts(rows)).toEqual([
      'plaintext POST search 0.64 of the floor (target 0.80: MISS)',
      'JWE X25519 GET 0.62 of the floor (target 0.75: MISS)',
      'JWE P-256 GET 0.48 of the floor (target 0.70: MISS)',
      'read by id 0.70 of the floor (target 0.85: MISS)',
    ])
    const fast = rows.map((r) => (r.name.startsWith('(floor)') ? { ...r, rps: 3800 } : r))
    expect(floorVerdicts(fast, 0.9)).toEqual([
      'plaintext POST search 0.84 of the floor (target 0.72: PASS)',
      'JWE X25519 GET 0.82 of the floor (target 0.68: PASS)',
      'JWE P-256 GET 0.63 of the floor (target 0.63: PASS)',
      'read by id 0.92 of the floor (target 0.77: PASS)',
    ])
    expect(floorVerdicts(rows.filter((r) => !r.name.startsWith('(floor)')))).toEqual([])
  })

  it('judges whether the baseline cost as much CPU at the end of a table as at its start', () => {
    const runs = (first: number, last: number) => [
      { ...row(BASELINE, 3000), cpuUs: first },
      row('(b) GET JWE ECDH-ES P-256', 2400),
      { ...row(`${BASELINE}, again at the end`, 3200), cpuUs: last },
    ]
    // What the pool queue did before its fix: 117 µs at the start, 168 at the end.
    expect(steadyVerdict(runs(117, 168))).toBe(
      'plaintext POST search, CPU per request at the end of the table 168 µs against 117 µs at its start: 1.44x (steady within 1.15x: MISS)',
    )
    expect(steadyVerdict(runs(116, 105))).toMatch(/: 0\.91x \(steady within 1\.15x: PASS\)$/)
    // No verdict without both runs' CPU (a cluster's workers are not measured).
    expect(steadyVerdict(rows)).toBeUndefined()
  })

  it('judges the cluster by its plaintext rate against one process', () => {
    const cluster = [row(BASELINE, 4000), row(`${BASELINE}, again at the end`, 4300)]
    expect(clusterVerdict(rows, cluster, 2)).toBe(
      'plaintext POST search, 2 workers: 1.34x one process (target 1.3x: PASS)',
    )
    expect(clusterVerdict(rows, [row(BASELINE, 3500)], 2)).toMatch(/1\.09x .*MISS\)$/)
    // A miss says how busy the machine was, where both were measured.
    const busyOne = rows.map((r) => (r.name.startsWith('(a)') ? { ...r, busy: 0.76 } : r))
    expect(clusterVerdict(busyOne, [{ ...row(BASELINE, 3000), busy: 0.994 }], 2)).toBe(
      'plaintext POST search, 2 workers: 0.94x one process (target 1.3x: MISS; the machine was 99% busy, 76% with one process)',
    )
  })

  it('marks a fixed-rate row whose p99 is 20 ms or more, or has errors, as a miss', () => {
    const r = {
      offered: 1000,
      achieved: 999.6,
      requests: 10000,
      errors: 0,
      p50: 2.1,
      p90: 4,
      p99: 12.3,
      max: 40,
    }
    expect(rateRow(1_000_000, r)).toBe(
      '| 1,000,000 | 1000 | 1000 | 2.1 | 4.0 | 12 | 40 | 0 | PASS |',
    )
    expect(rateRow(1_000_000, { ...r, p99: 20 })).toMatch(/MISS \|$/)
    expect(rateRow(1_000_000, { ...r, errors: 1 })).toMatch(/MISS \|$/)
  })
})

/** A loopback server counting what it is asked; `stallMs` holds every answer that long. */
async function countingServer(status = 200, stallMs = 0) {
  const seen = new Map<string, number>()
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (d: Buffer) => (body += d.toString()))
    req.on('end', () => {
      const key = `${req.method} ${req.url} ${req.headers['content-type'] ?? ''} ${body}`
      seen.set(key, (seen.get(key) ?? 0) + 1)
      setTimeout(() => res.writeHead(status).end('ok'), stallMs)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    base: `http://127.0.0.1:${port}`,
    seen,
    close: () => {
      server.closeAllConnections()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

describe('the load generators', () => {
  it('drives wrk through every pre-made request in turn and counts what it sent', async () => {
    const server = await countingServer()
    try {
      const dir = await tempDir()
      const requests: BenchRequest[] = [
        { method: 'GET', path: '/v2/fhir/metadata' },
        {
          method: 'POST',
          path: '/v2/fhir/Patient/_search',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          body: 'identifier=http%3A%2F%2Fhl7.org%2Ffhir%2Fsid%2Fus-mbi%7C1S00A00AA00',
        },
      ]
      const script = await writeWrkScript(dir, 'two', requests)
      const result = await runWrk(server.base, script, 1, 2)
      const counts = [...server.seen.values()]
      expect([...server.seen.keys()].sort()).toEqual([
        'GET /v2/fhir/metadata  ',
        'POST /v2/fhir/Patient/_search application/x-www-form-urlencoded identifier=http%3A%2F%2Fhl7.org%2Ffhir%2Fsid%2Fus-mbi%7C1S00A00AA00',
      ])
      const served = counts.reduce((a, b) => a + b, 0)
      // wrk counts the answers it read; requests in flight when it stopped are not among them.
      expect(result.requests).toBeGreaterThan(0)
      expect(served - result.requests).toBeGreaterThanOrEqual(0)
      expect(served - result.requests).toBeLessThanOrEqual(2)
      expect(Math.abs(counts[0]! - counts[1]!)).toBeLessThanOrEqual(2)
      expect(result.errors).toBe(0)
      expect(result.p50).toBeLessThanOrEqual(result.p99)
    } finally {
      await server.close()
    }
  })

  it('counts answers other than 2xx and 3xx as errors', async () => {
    const server = await countingServer(503)
    try {
      const script = await writeWrkScript(await tempDir(), 'one', [{ method: 'GET', path: '/' }])
      const result = await runWrk(server.base, script, 1, 1)
      expect(result.requests).toBeGreaterThan(0)
      expect(result.errors).toBe(result.requests)
    } finally {
      await server.close()
    }
  })

  it('offers a fixed rate whatever the server does, and times each request from when it was due', async () => {
    // Every answer stalls 300 ms and only two connections are allowed: a closed loop would send
    // a handful; the fixed-rate tool still sends all 40, and the queue shows in the latency.
    const server = await countingServer(200, 300)
    try {
      const dir = await tempDir()
      const tool = await buildRateTool(dir)
      const paths = join(dir, 'paths.txt')
      await writeFile(paths, '/a\n/b\n')
      const { stdout } = await exec(tool, [
        ...['-base', server.base, '-paths', paths],
        ...['-rate', '40', '-seconds', '1', '-conns', '2'],
      ])
      const r = JSON.parse(stdout) as FixedRate
      expect([r.offered, r.requests, r.errors]).toEqual([40, 40, 0])
      expect([...server.seen.values()]).toEqual([20, 20])
      expect(r.p50).toBeGreaterThanOrEqual(300)
      // 40 requests through 2 connections at 300 ms each: the last waits for 19 before it.
      expect(r.max).toBeGreaterThanOrEqual(19 * 300 - 1000)
      expect(r.p50).toBeLessThanOrEqual(r.p99)
      expect(r.p99).toBeLessThanOrEqual(r.max)
    } finally {
      await server.close()
    }
  }, 30_000)
})
