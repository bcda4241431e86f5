/**
 * The end-to-end benchmark: `npm run bench -- [options]` (see USAGE). Seeds a real PostgreSQL,
 * starts the built gateway (node dist/index.js) as its own process, drives it with autocannon at
 * a fixed concurrency for a fixed time with pre-generated tokens, and prints one table; writes it
 * between the markers of BENCHMARKS.md.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { closeSync, openSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { cpus, tmpdir, totalmem, type as osType, release } from 'node:os'
import { join } from 'node:path'
import autocannon from 'autocannon'
import { Presets, SingleBar } from 'cli-progress'
import {
  chooseKey,
  encryptMbiHpke,
  encryptMbiJwe,
  patientSearchUrl,
  type JweAlg,
  type Jwks,
} from '@sealed-search/client'
import { countBeneficiaries } from '../src/db/beneficiaries.js'
import { migrate } from '../src/db/migrate.js'
import { seed, seededMbi } from '../src/db/seed.js'
import { processEnvironment, readVariable } from '../src/config/index.js'
import { createSql } from '../src/db/sql.js'
import { addGeneratedKey } from '../src/keys/stores/dir-files.js'
import { writeGenerated } from './bench/report.js'
import { parse, run, UsageError } from './cli.js'
import { softHsm } from './bench/softhsm.js'

const USAGE = `usage: npm run bench -- [options]

Needs DATABASE_URL (a real PostgreSQL server). Rows are seeded once per row count, in the schema
bench_<rows>, and kept for later runs. Where SoftHSM2 and pkcs11js are installed, the one-process
layout is measured again with its P-256 key generated in a SoftHSM2 token (row h).

options:
  --rows N          beneficiaries in the database (default 1000000)
  --seconds S       measured seconds per row of the table (default 10; 1 s warm-up before)
  --connections C   concurrent connections (default 16)
  --workers LIST    gateway process layouts to measure: 0 = one process, auto = one per core
                    (default 0,auto)
  --scale LIST      also measure JWE P-256 search latency at these row counts (e.g. 100000,1000000)
  --out FILE        write the results between the markers of FILE (default BENCHMARKS.md;
                    - for stdout only); the text outside the markers is kept
  --logs DIR        keep the gateway's log and audit log in DIR (default: deleted after the run)
  --smoke           a few thousand requests on 2,000 rows, for CI (report to stdout)
  -h, --help        this text`

interface Row {
  name: string
  rps: number
  p50: number
  p99: number
  errors: number
  requests: number
}

interface Target {
  name: string
  requests: autocannon.Request[]
}

const PLAIN_SYSTEM = 'http://hl7.org/fhir/sid/us-mbi'

async function ensureSeeded(url: string, rows: number): Promise<string> {
  const schema = `bench_${rows}`
  const admin = createSql({ url, max: 1 })
  await admin`create schema if not exists ${admin(schema)}`
  await admin.end()
  const sql = createSql({ url, max: 4, searchPath: schema })
  try {
    await migrate(sql)
    const have = await countBeneficiaries(sql)
    if (have < rows) {
      const bar = new SingleBar(
        {
          format: `seeding ${schema} [{bar}] {percentage}% | {value}/{total} | {eta_formatted} left`,
          stream: process.stderr,
          noTTYOutput: true,
          notTTYSchedule: 5000,
        },
        Presets.shades_classic,
      )
      const started = performance.now()
      bar.start(rows, 0)
      await seed(sql, { count: rows, onProgress: (done) => bar.update(done) })
      bar.stop()
      process.stderr.write(
        `seeded ${rows} rows in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
      )
    }
  } finally {
    await sql.end()
  }
  return schema
}

interface Gateway {
  base: string
  child: ChildProcess
  stop(): Promise<void>
}

/** The production build, as an operator runs it: node dist/index.js. */
async function startGateway(env: NodeJS.ProcessEnv, logFile: string): Promise<Gateway> {
  const out = openSync(logFile, 'a')
  const child = spawn(process.execPath, ['dist/index.js'], { env, stdio: ['ignore', out, 'pipe'] })
  closeSync(out)
  let stderr = ''
  const base = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString()
      const m = /listening on (https?:\/\/\S+)/.exec(stderr)
      if (m) resolve(m[1]!)
    })
    child.on('exit', (code) => reject(new Error(`gateway exited with ${code}:\n${stderr}`)))
  })
  return {
    base,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      }),
  }
}

function measure(base: string, target: Target, seconds: number, connections: number): Promise<Row> {
  return new Promise((resolve, reject) => {
    autocannon(
      { url: base, connections, duration: seconds, requests: target.requests, timeout: 10 },
      (error, result) => {
        if (error) return reject(error)
        resolve({
          name: target.name,
          rps: result.requests.average,
          p50: result.latency.p50,
          p99: result.latency.p99,
          errors: result.errors + result.non2xx + result.timeouts,
          requests: result.requests.total,
        })
      },
    )
  })
}

async function targets(
  base: string,
  jwks: Jwks,
  rows: number,
  distinct: number,
): Promise<Target[]> {
  const indexes = Array.from({ length: distinct }, (_, i) => Math.floor((i * 7919) % rows))
  const p256 = chooseKey(jwks, 'P-256')
  // A ring without an X25519 key (the SoftHSM2 one) has only the P-256 rows.
  const x25519 = jwks.keys.some((k) => k.crv === 'X25519') ? chooseKey(jwks, 'X25519') : undefined
  // The hybrid post-quantum key, where the ring has one.
  const xwing = jwks.keys.some((k) => k.kty === 'AKP') ? chooseKey(jwks, 'X-Wing') : undefined
  const get = (tokens: string[]): autocannon.Request[] =>
    tokens.map((t) => {
      const u = new URL(patientSearchUrl(base, t))
      return { method: 'GET', path: u.pathname + u.search }
    })
  const jwe = (key: typeof p256, alg: JweAlg) =>
    Promise.all(indexes.map((i) => encryptMbiJwe(seededMbi(i), key, { alg })))
  const list: Target[] = [
    {
      name: '(a) plaintext POST search (baseline)',
      requests: indexes.map((i) => ({
        method: 'POST',
        path: '/v2/fhir/Patient/_search',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `identifier=${encodeURIComponent(`${PLAIN_SYSTEM}|${seededMbi(i)}`)}`,
      })),
    },
    { name: '(b) GET JWE ECDH-ES P-256', requests: get(await jwe(p256, 'ECDH-ES')) },
    ...(x25519
      ? [{ name: '(c) GET JWE ECDH-ES X25519', requests: get(await jwe(x25519, 'ECDH-ES')) }]
      : []),
    { name: '(d) GET JWE ECDH-ES+A256KW P-256', requests: get(await jwe(p256, 'ECDH-ES+A256KW')) },
    ...(x25519
      ? [
          {
            name: '(e) GET HPKE X25519',
            requests: get(
              await Promise.all(indexes.map((i) => encryptMbiHpke(seededMbi(i), x25519))),
            ),
          },
        ]
      : []),
    {
      name: '(f) GET /v2/fhir/metadata (static)',
      requests: [{ method: 'GET', path: '/v2/fhir/metadata' }],
    },
    {
      name: '(g) GET HPKE P-256',
      requests: get(await Promise.all(indexes.map((i) => encryptMbiHpke(seededMbi(i), p256)))),
    },
    ...(xwing
      ? [
          {
            name: '(i) GET HPKE X-Wing (hybrid post-quantum)',
            requests: get(
              await Promise.all(indexes.map((i) => encryptMbiHpke(seededMbi(i), xwing))),
            ),
          },
        ]
      : []),
  ]
  return list
}

/**
 * The baseline is measured first and again last; the larger rate is used, so a gateway still
 * warming up (JIT, pool, caches) during the first row never flatters the ratios.
 */
function baselineOf(rows: Row[]): number {
  return Math.max(...rows.filter((r) => r.name.startsWith('(a)')).map((r) => r.rps))
}

/** Measures each target in turn (1 s warm-up each), then the baseline (a) again. */
async function measureTargets(
  base: string,
  list: Target[],
  seconds: number,
  connections: number,
): Promise<Row[]> {
  const results: Row[] = []
  const again = { ...list[0]!, name: '(a) plaintext POST search (baseline), again at the end' }
  for (const target of [...list, again]) {
    await measure(base, target, 1, connections) // warm-up
    const row = await measure(base, target, seconds, connections)
    process.stderr.write(
      `${row.name}: ${row.rps.toFixed(0)} req/s, p50 ${row.p50} ms, errors ${row.errors}\n`,
    )
    results.push(row)
  }
  return results
}

function table(rows: Row[]): string {
  const baseline = baselineOf(rows)
  const lines = [
    '| | requests/s | p50 ms | p99 ms | errors | vs (a) |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
  ]
  for (const r of rows) {
    const ratio =
      r.name.startsWith('(a)') || r.name.startsWith('(f)')
        ? ''
        : `${((r.rps / baseline) * 100).toFixed(0)}%`
    lines.push(`| ${r.name} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.errors} | ${ratio} |`)
  }
  return lines.join('\n') + '\n\n' + curveRatios(rows)
}

/** Issue 12's targets: each curve's end-to-end rate (JWE ECDH-ES) as a share of the baseline. */
const HSM_ROW = '(h) GET JWE ECDH-ES P-256, key in SoftHSM2'
const CURVE_TARGETS = [
  ['P-256', '(b)', 0.85],
  ['X25519', '(c)', 0.95],
  ['SoftHSM2 P-256', '(h)', 0.7],
  ['X-Wing (hybrid)', '(i)', 0.7],
] as const

function curveRatios(rows: Row[]): string {
  const baseline = baselineOf(rows)
  const parts = CURVE_TARGETS.map(([crv, row, target]) => {
    const found = rows.find((r) => r.name.startsWith(row))
    if (!found) return undefined
    const ratio = found.rps / baseline
    return `${crv} ${ratio.toFixed(2)} (target ${target}: ${ratio >= target ? 'PASS' : 'MISS'})`
  })
  return `End to end, of the plaintext POST baseline (a): ${parts.filter(Boolean).join('; ')}.`
}

async function machine(url: string): Promise<string> {
  const sql = createSql({ url, max: 1 })
  const [pg] = await sql<{ version: string }[]>`select version()`
  await sql.end()
  const cpu = cpus()
  return [
    `- CPU: ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown'}`,
    `- memory: ${(totalmem() / 2 ** 30).toFixed(0)} GiB; ${osType()} ${release()}`,
    `- Node.js ${process.version}; ${pg?.version.split(',')[0] ?? 'PostgreSQL'} on the same machine`,
    '- the load generator (autocannon), the gateway and PostgreSQL share these cores',
  ].join('\n')
}

async function main(): Promise<void> {
  const { values } = parse(process.argv.slice(2), {
    rows: { type: 'string' },
    seconds: { type: 'string' },
    connections: { type: 'string' },
    workers: { type: 'string' },
    scale: { type: 'string' },
    out: { type: 'string' },
    logs: { type: 'string' },
    smoke: { type: 'boolean' },
    help: { type: 'boolean' },
  })
  if (values.help) return void process.stdout.write(USAGE + '\n')
  const url = readVariable(processEnvironment(), 'DATABASE_URL')
  if (!url)
    throw new UsageError(
      'set DATABASE_URL to a PostgreSQL server (the bench measures the production path)',
    )
  const smoke = values.smoke ?? false
  const number = (v: string | undefined, fallback: number, name: string) => {
    const n = Number(v ?? fallback)
    if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a positive number`)
    return n
  }
  const rows = Math.floor(number(values.rows, smoke ? 2000 : 1_000_000, 'rows'))
  const seconds = number(values.seconds, smoke ? 1 : 10, 'seconds')
  const connections = Math.floor(number(values.connections, smoke ? 4 : 16, 'connections'))
  const layouts = (values.workers ?? (smoke ? '0' : '0,auto')).split(',')
  const scale = values.scale
    ? values.scale.split(',').map((r) => Math.floor(number(r, 1, 'scale')))
    : []
  const out = values.out ?? (smoke ? '-' : 'BENCHMARKS.md')

  execFileSync(process.execPath, ['scripts/build.mjs', '--if-needed'], { stdio: 'inherit' })
  // The keys (private JWKs) and, unless --logs, the logs live in a directory removed at the end.
  const work = await mkdtemp(join(tmpdir(), 'sealed-bench-'))
  const logs = values.logs ?? work
  if (values.logs) await mkdir(values.logs, { recursive: true })
  try {
    await measureAll(url, work, logs)
  } finally {
    await rm(work, { recursive: true, force: true })
  }
  if (values.logs) {
    process.stderr.write(`logs kept: ${join(logs, 'gateway.log')} and ${join(logs, 'audit.log')}\n`)
  }

  async function measureAll(url: string, work: string, logs: string): Promise<void> {
    const keysDir = join(work, 'keys')
    await addGeneratedKey(keysDir, 'P-256')
    await addGeneratedKey(keysDir, 'X25519')
    await addGeneratedKey(keysDir, 'X-Wing')
    const env = (schema: string, workers: string): NodeJS.ProcessEnv => ({
      ...processEnvironment(),
      PORT: '0',
      DATABASE_URL: url,
      DATABASE_SCHEMA: schema,
      KEYS_DIR: keysDir,
      KEYS_AUTOGENERATE: 'false',
      CLUSTER_WORKERS: workers,
      DB_POOL_SIZE: '10',
      LOG_LEVEL: 'info',
      AUDIT_LOG: join(logs, 'audit.log'),
    })

    const report: string[] = []
    const schema = await ensureSeeded(url, rows)
    for (const workers of layouts) {
      const gateway = await startGateway(env(schema, workers), join(logs, 'gateway.log'))
      try {
        const jwks = JSON.parse(
          await (await fetch(`${gateway.base}/.well-known/jwks.json`)).text(),
        ) as Jwks
        const list = await targets(gateway.base, jwks, rows, smoke ? 50 : 500)
        const results = await measureTargets(gateway.base, list, seconds, connections)
        const label =
          workers === '0'
            ? 'one process'
            : `CLUSTER_WORKERS=${workers} (${workers === 'auto' ? cpus().length : workers} workers)`
        report.push(
          `### ${rows.toLocaleString('en-US')} rows, ${label}, ${connections} connections, ${seconds} s per row\n\n${table(results)}`,
        )
      } finally {
        await gateway.stop()
      }
    }

    // The key in a PKCS#11 token (SoftHSM2), where installed: the same one-process gateway with
    // its P-256 key in the token, measured against its own plaintext baseline.
    const hsm = layouts.includes('0') ? await softHsm(join(work, 'hsm')) : undefined
    if (hsm) {
      const gateway = await startGateway(
        {
          ...env(schema, '0'),
          KEYS_DIR: join(work, 'hsm', 'keys'),
          PKCS11_MODULE: hsm.pkcs11.module,
          PKCS11_TOKEN_LABEL: hsm.pkcs11.tokenLabel,
          PKCS11_PIN: hsm.pkcs11.pin,
          SOFTHSM2_CONF: hsm.pkcs11.conf,
        },
        join(logs, 'gateway.log'),
      )
      try {
        const jwks = JSON.parse(
          await (await fetch(`${gateway.base}/.well-known/jwks.json`)).text(),
        ) as Jwks
        const [baseline, jweP256] = await targets(gateway.base, jwks, rows, smoke ? 50 : 500)
        const list = [baseline!, { ...jweP256!, name: HSM_ROW }]
        const results = await measureTargets(gateway.base, list, seconds, connections)
        report.push(
          `### ${rows.toLocaleString('en-US')} rows, one process, P-256 key in a SoftHSM2 token (PKCS#11), ${connections} connections, ${seconds} s per row\n\n${table(results)}`,
        )
      } finally {
        await gateway.stop()
      }
    }

    if (scale.length) {
      const lines = [
        '| rows | requests/s | p50 ms | p99 ms | errors |',
        '| ---: | ---: | ---: | ---: | ---: |',
      ]
      const p50s: number[] = []
      for (const n of scale) {
        const s = await ensureSeeded(url, n)
        const gateway = await startGateway(env(s, '0'), join(logs, 'gateway.log'))
        try {
          const jwks = JSON.parse(
            await (await fetch(`${gateway.base}/.well-known/jwks.json`)).text(),
          ) as Jwks
          const [, jweP256] = await targets(gateway.base, jwks, n, 500)
          await measure(gateway.base, jweP256!, 1, connections)
          const row = await measure(gateway.base, jweP256!, seconds, connections)
          p50s.push(row.p50)
          lines.push(
            `| ${n.toLocaleString('en-US')} | ${row.rps.toFixed(0)} | ${row.p50} | ${row.p99} | ${row.errors} |`,
          )
        } finally {
          await gateway.stop()
        }
      }
      const spread = Math.max(...p50s) / Math.max(Math.min(...p50s), 0.001)
      report.push(
        `### Search latency by table size (JWE ECDH-ES P-256, one process)\n\n${lines.join('\n')}\n\nlargest p50 / smallest p50: ${spread.toFixed(2)}x`,
      )
    }

    const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim()
    const text = `Measured ${new Date().toISOString().slice(0, 10)} with \`${command}\`\n(DATABASE_URL pointing at a local PostgreSQL server). Tokens are made before the run, so the load generator measures the gateway, not the encryption. Ratios are requests/s against the plaintext baseline (a), measured first and again last in each table; the larger of the two is used.\n\nMachine:\n\n${await machine(url)}\n\n${report.join('\n\n')}\n`
    process.stdout.write(text)
    if (out !== '-') {
      await writeGenerated(out, text)
      process.stderr.write(`wrote the results between the markers of ${out}\n`)
    }
  }
}

run(main, USAGE)
