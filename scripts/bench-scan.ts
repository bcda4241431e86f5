/**
 * `npm run bench:scan -- [--mb N]`: logs:scan's speed and memory on a generated log of N MB
 * (default 1024) with a known number of tokens and planted plaintext identifiers; prints MB/s by
 * the clock and per CPU second (the scan is one thread: the rate of one core, whatever else the
 * machine runs), the peak resident memory for a quarter of the log and for all of it (flat when
 * the scan streams), and whether every token and planted value was found with no false positive.
 */
import { createReadStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { encryptMbi } from '@sealed-search/client'
import { syntheticMbi } from '../src/identifiers/synthetic.js'
import { loadKeyRing } from '../src/keys/ring/open-key.js'
import { readManifest } from '../src/keys/stores/manifest.js'
import { addGeneratedKey } from '../src/keys/custody/bootstrap.js'
import {
  buildReport,
  emptyTotals,
  ringFromEntries,
  scanSource,
  type ScanReport,
} from '../src/logscan/index.js'
import { writeScanLog, type GeneratedLog } from './bench/scan-log.js'
import { parse, run, UsageError } from './cli.js'

const USAGE = `usage: npm run bench:scan -- [--mb N]

Generates an access log of N MB (default 1024) in a temporary directory (removed afterwards),
with tokens for two keys and plaintext identifiers planted in every spelling, scans it on one
core as logs:scan does, and prints MB/s (by the clock, and per CPU second: the rate of one core), the peak
resident memory, and what was found. Exit status 1 when a token or a planted value was missed
or a value was found that was not planted.
  --mb N       the size of the full log in MB (default 1024; a quarter of it is scanned first)
  -h, --help   this text`

async function measure(path: string, ring: Parameters<typeof buildReport>[1]) {
  const totals = emptyTotals()
  let peak = 0
  const sample = () => {
    peak = Math.max(peak, process.memoryUsage().rss)
  }
  const timer = setInterval(sample, 20)
  const cpu = process.cpuUsage()
  const started = performance.now()
  await scanSource(totals, {
    name: path,
    stream: createReadStream(path, { highWaterMark: 1 << 20 }),
  })
  const seconds = (performance.now() - started) / 1000
  const used = process.cpuUsage(cpu)
  const cpuSeconds = (used.user + used.system) / 1e6
  clearInterval(timer)
  sample()
  return { report: buildReport(totals, ring), seconds, cpuSeconds, peakMb: peak / 2 ** 20 }
}

function check(report: ScanReport, log: GeneratedLog): string[] {
  const misses: string[] = []
  if (report.lines !== log.lines) misses.push(`lines ${report.lines}, written ${log.lines}`)
  if (report.tokens !== log.tokens) misses.push(`tokens ${report.tokens}, written ${log.tokens}`)
  if (report.decryptable !== log.tokens) misses.push(`decryptable ${report.decryptable}`)
  const found = report.plaintext.listed.map((f) => f.line)
  const missed = log.planted.filter((l) => !found.includes(l))
  const extra = found.filter((l) => !log.planted.includes(l))
  if (missed.length) misses.push(`planted values not found: ${missed.length}`)
  if (extra.length)
    misses.push(`false positives: ${extra.length} (lines ${extra.slice(0, 5).join(', ')})`)
  return misses
}

async function main(): Promise<void> {
  const { values } = parse(process.argv.slice(2), { mb: { type: 'string' } })
  if (values.help) return void process.stdout.write(USAGE + '\n')
  const mb = Number(values.mb ?? 1024)
  if (!Number.isInteger(mb) || mb < 4) throw new UsageError('--mb must be an integer of 4 or more')
  const dir = await mkdtemp(join(tmpdir(), 'sealed-bench-scan-'))
  try {
    const keysDir = join(dir, 'keys')
    await addGeneratedKey(keysDir, 'P-256')
    await addGeneratedKey(keysDir, 'X25519')
    const keyRing = await loadKeyRing(keysDir)
    const pool: string[] = []
    for (let i = 0; i < 512; i++) {
      const key = keyRing.keys[i % 2]!
      pool.push(
        await encryptMbi(syntheticMbi(i), key.publicJwk, { format: i % 4 < 2 ? 'jwe' : 'hpke' }),
      )
    }
    const ring = ringFromEntries(keysDir, (await readManifest(keysDir)).keys)
    const rows: string[] = []
    let failed = false
    for (const size of [Math.ceil(mb / 4), mb]) {
      const path = join(dir, `access-${size}.log`)
      const log = await writeScanLog(path, size * 2 ** 20, pool)
      const { report, seconds, cpuSeconds, peakMb } = await measure(path, ring)
      await rm(path)
      const misses = check(report, log)
      failed ||= misses.length > 0
      const mbs = log.bytes / 2 ** 20
      const load = loadavg()[0]!.toFixed(1)
      rows.push(
        `${(log.bytes / 2 ** 20).toFixed(0)} MB, ${log.lines} lines, ${log.tokens} tokens, ${log.planted.length} planted: ` +
          `${seconds.toFixed(2)} s, ${(mbs / seconds).toFixed(0)} MB/s by the clock (load ${load}); ${cpuSeconds.toFixed(2)} s CPU, ${(mbs / cpuSeconds).toFixed(0)} MB/s per CPU second; peak RSS ${peakMb.toFixed(0)} MB; ` +
          `found ${report.tokens} tokens, ${report.plaintext.count} plaintext; ${misses.length ? `MISS: ${misses.join('; ')}` : 'all found, no false positive'}`,
      )
      process.stdout.write(rows.at(-1)! + '\n')
    }
    if (failed) process.exitCode = 1
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

run(main, USAGE)
