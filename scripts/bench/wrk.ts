/**
 * The bench's load generators, both native so that they take no CPU from Node: wrk (Debian's
 * `wrk`) at a fixed concurrency for a fixed time, one thread, driven by a Lua script that cycles
 * through the pre-made requests; and scripts/bench/rate (Go, built once per run) for latency at a
 * fixed offered rate.
 */
import { execFile } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'

const exec = promisify(execFile)

export interface BenchRequest {
  method: 'GET' | 'POST'
  path: string
  headers?: Record<string, string>
  body?: string
}

export interface Measured {
  rps: number
  /** Latency percentiles in milliseconds. */
  p50: number
  p99: number
  /** Socket errors, timeouts and answers other than 2xx or 3xx. */
  errors: number
  requests: number
}

/** A Lua string literal: the requests hold only URL-safe text, which JSON quotes as Lua does. */
const lua = (text: string) => JSON.stringify(text)

/** The Lua script that makes wrk send `requests` in turn and report its results as one line. */
export function wrkScript(requests: BenchRequest[]): string {
  const formatted = requests.map((r) => {
    const headers = Object.entries(r.headers ?? {})
      .map(([k, v]) => `[${lua(k)}]=${lua(v)}`)
      .join(', ')
    const body = r.body === undefined ? 'nil' : lua(r.body)
    return `  wrk.format(${lua(r.method)}, ${lua(r.path)}, {${headers}}, ${body}),`
  })
  return `local requests
local i = 0
function init(args)
  requests = {
${formatted.join('\n')}
  }
end
function request()
  i = i % #requests + 1
  return requests[i]
end
function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format('BENCH {"requests":%d,"us":%d,"errors":%d,"p50":%d,"p99":%d}\\n',
    summary.requests, summary.duration,
    e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
`
}

/** Runs wrk against `base` for `seconds` with `connections`, one thread; `script` is a file. */
export async function runWrk(
  base: string,
  script: string,
  seconds: number,
  connections: number,
): Promise<Measured> {
  const { stdout } = await exec(
    'wrk',
    ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '10s', '-s', script, base],
    { maxBuffer: 1 << 20 },
  )
  const line = /^BENCH (\{.*\})$/m.exec(stdout)
  if (!line) throw new Error(`wrk printed no result:\n${stdout}`)
  const r = JSON.parse(line[1]!) as Record<'requests' | 'us' | 'errors' | 'p50' | 'p99', number>
  return {
    rps: r.requests / (r.us / 1e6),
    p50: r.p50 / 1000,
    p99: r.p99 / 1000,
    errors: r.errors,
    requests: r.requests,
  }
}

/** Writes the Lua script for `requests` into `dir` as `name`.lua; returns its path. */
export async function writeWrkScript(
  dir: string,
  name: string,
  requests: BenchRequest[],
): Promise<string> {
  const file = join(dir, `${name}.lua`)
  await writeFile(file, wrkScript(requests))
  return file
}

/** Whether wrk is installed (Debian's `wrk`; .ci/run installs it). */
export async function haveWrk(): Promise<boolean> {
  try {
    await exec('wrk', ['-v'])
    return true
  } catch (error) {
    // wrk -v prints its version and exits 1; only a missing binary is an ENOENT.
    return (error as { code?: unknown }).code !== 'ENOENT'
  }
}

export interface FixedRate {
  offered: number
  achieved: number
  requests: number
  errors: number
  p50: number
  p90: number
  p99: number
  max: number
}

/** Builds the fixed-rate tool (scripts/bench/rate, Go) into `dir`; returns the binary's path. */
export async function buildRateTool(dir: string): Promise<string> {
  const binary = join(dir, 'rate')
  await exec('go', ['build', '-o', binary, 'scripts/bench/rate/main.go'])
  return binary
}

/** Offers `rate` GET requests per second for `seconds`, cycling through `paths`. */
export async function runFixedRate(
  tool: string,
  base: string,
  pathsFile: string,
  rate: number,
  seconds: number,
): Promise<FixedRate> {
  const { stdout } = await exec(tool, [
    '-base',
    base,
    '-paths',
    pathsFile,
    '-rate',
    String(rate),
    '-seconds',
    String(seconds),
  ])
  return JSON.parse(stdout) as FixedRate
}
