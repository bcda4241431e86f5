/**
 * What traces cost: JWE searches per second through the app in process (no network, embedded
 * database), with tracing off and on, in alternating windows; and the cost of the off path
 * itself (the check for a tracer) per call.
 *   npm run bench:tracing -- [--seconds S]
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BatchSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node'
import { chooseKey, encryptMbi, patientSearchUrl } from '@sealed-search/client'
import { openDatabase } from '../src/db/connect.js'
import { migrate } from '../src/db/migrate.js'
import { seed, seededMbi } from '../src/db/seed.js'
import { createApp } from '../src/http/app.js'
import { staticKeyRing } from '../src/keys/ring/keyring.js'
import { loadKeyRing } from '../src/keys/ring/open-key.js'
import { addGeneratedKey } from '../src/keys/custody/bootstrap.js'
import { createLogger } from '../src/log/logger.js'
import { redactingProcessor } from '../src/tracing/redact.js'
import { inSpan, type Tracer } from '../src/tracing/span.js'
import { parse, run, UsageError } from './cli.js'

const ROUNDS = 6
const TOKENS = 200

const USAGE = `usage: npm run bench:tracing -- [--seconds S]

Measures, on the embedded database and in this process (app.request, no sockets), JWE P-256
Patient searches one at a time: with tracing off (no tracer: the default) and on (spans made
and batched to an exporter that drops them), each row's time spread over ${ROUNDS} alternating
windows, its rate the median. Then times the off path alone: inSpan() without a tracer against
calling the work directly, per call. Prints the numbers; asserts nothing.

  --seconds S   seconds per row (default 6)
  -h, --help    this text`

async function rate(fetchOne: (i: number) => Promise<void>, ms: number): Promise<number> {
  const end = performance.now() + ms
  let n = 0
  while (performance.now() < end) await fetchOne(n++)
  return n / (ms / 1000)
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

/** Nanoseconds per call of `f`, over `n` calls. */
async function nsPerCall(f: () => Promise<unknown>, n: number): Promise<number> {
  const start = process.hrtime.bigint()
  for (let i = 0; i < n; i++) await f()
  return Number(process.hrtime.bigint() - start) / n
}

async function main() {
  const { values } = parse(process.argv.slice(2), { seconds: { type: 'string' } })
  if (values.help) return void process.stdout.write(USAGE + '\n')
  const seconds = Number(values.seconds ?? 6)
  if (!(seconds > 0)) throw new UsageError('--seconds must be a positive number')

  const dir = await mkdtemp(join(tmpdir(), 'sealed-bench-tracing-'))
  const db = await openDatabase({
    url: undefined,
    schema: undefined,
    dataDir: '',
    poolSize: 1,
    connectTimeoutSeconds: 5,
  })
  const provider = new NodeTracerProvider({
    spanProcessors: [
      redactingProcessor(
        new BatchSpanProcessor({
          export: (_spans: ReadableSpan[], done) => done({ code: 0 }),
          shutdown: async () => {},
        }),
      ),
    ],
  })
  provider.register()
  try {
    await migrate(db.sql)
    await seed(db.sql, { count: TOKENS })
    await addGeneratedKey(dir, 'P-256')
    const ring = await loadKeyRing(dir)
    const jwk = chooseKey({ keys: ring.jwks().keys } as never, 'P-256')
    const urls = await Promise.all(
      Array.from({ length: TOKENS }, async (_, i) =>
        patientSearchUrl('http://bench.test', await encryptMbi(seededMbi(i), jwk)),
      ),
    )
    const logger = createLogger('silent')
    const app = (tracer?: Tracer) =>
      createApp({
        keys: staticKeyRing(ring),
        sql: db.reads,
        logger,
        publicBaseUrl: 'http://bench.test',
        ...(tracer ? { tracer } : {}),
      })
    const apps = { off: app(), on: app(provider.getTracer('bench')) }
    const rates: Record<keyof typeof apps, number[]> = { off: [], on: [] }
    const windowMs = (seconds * 1000) / ROUNDS
    for (const name of ['off', 'on'] as const) await rate(fetcher(apps[name], urls), 500)
    for (let r = 0; r < ROUNDS; r++) {
      for (const name of ['off', 'on'] as const) {
        rates[name].push(await rate(fetcher(apps[name], urls), windowMs))
      }
    }
    const work = () => Promise.resolve(1)
    const calls = 2_000_000
    await nsPerCall(() => inSpan(undefined, 'x', {}, work), calls / 10)
    const direct = await nsPerCall(work, calls)
    const viaOff = await nsPerCall(() => inSpan(undefined, 'x', {}, work), calls)
    const off = median(rates.off)
    const on = median(rates.on)
    const searchNs = 1e9 / off
    const offPathNs = Math.max(0, viaOff - direct) * 2 // token.open and db.read
    process.stdout.write(
      [
        `JWE P-256 searches, one at a time, in process (${seconds} s per row, median of ${ROUNDS} windows)`,
        `  tracing off   ${off.toFixed(0)} searches/s`,
        `  tracing on    ${on.toFixed(0)} searches/s  (${((on / off) * 100).toFixed(1)}% of off)`,
        `off path: inSpan() without a tracer ${viaOff.toFixed(1)} ns/call, direct ${direct.toFixed(1)} ns/call`,
        `  two per search: ${offPathNs.toFixed(0)} ns of a ${(searchNs / 1000).toFixed(0)} µs search (${((offPathNs / searchNs) * 100).toFixed(3)}%)`,
        '',
      ].join('\n'),
    )
  } finally {
    await provider.shutdown()
    await db.close()
    await rm(dir, { recursive: true, force: true })
  }
}

function fetcher(app: ReturnType<typeof createApp>, urls: string[]) {
  return async (i: number) => {
    const res = await app.request(urls[i % urls.length]!)
    if (res.status !== 200) throw new Error(`search answered ${res.status}`)
    await res.arrayBuffer()
  }
}

run(main, USAGE)
