/**
 * The end-to-end benchmark: `npm run bench -- [options]` (see USAGE). Seeds a real PostgreSQL,
 * starts the built gateway (node dist/index.js) and, beside it, the floor (scripts/bench/floor.ts:
 * node:http, postgres.js, the gateway's own lookup SQL, nothing else), each as its own process;
 * drives both with wrk (native, one thread) at a fixed concurrency for a fixed time with
 * pre-generated tokens, and prints one table per layout with every row's rate against the floor
 * and against the plaintext baseline; with --scale, latency at a fixed offered rate
 * (scripts/bench/rate). Writes the report between the markers of BENCHMARKS.md.
 */
import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { cpus, tmpdir, totalmem, type as osType, release, loadavg } from 'node:os'
import { join } from 'node:path'
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
import { seed, seededBeneId, seededMbi } from '../src/db/seed.js'
import { processEnvironment, readVariable } from '../src/config/index.js'
import { createSql } from '../src/db/sql.js'
import { addGeneratedKey } from '../src/keys/custody/bootstrap.js'
import {
  cpuPerRequestUs,
  machineBusy,
  machineTicks,
  mainThreadCpuNs,
  postgresCpu,
  postgresUsPerRequest,
} from './bench/cpu.js'
import { writeGenerated } from './bench/report.js'
import { startFloor, startGateway, type Server } from './bench/servers.js'
import {
  BASELINE,
  clusterVerdict,
  FLOOR,
  floorVerdicts,
  baselineVerdicts,
  XWING_ROW,
  RATE_HEADER,
  rateRow,
  steadyVerdict,
  table,
  type Row,
} from './bench/table.js'
import {
  buildRateTool,
  haveWrk,
  runFixedRate,
  runWrk,
  writeWrkScript,
  type BenchRequest,
} from './bench/wrk.js'
import { parse, run, UsageError } from './cli.js'
import { softHsm } from './bench/softhsm.js'

const USAGE = `usage: npm run bench -- [options]

Needs DATABASE_URL (a real PostgreSQL server) and wrk (Debian's wrk). Rows are seeded once per
row count, in the schema bench_<rows>, and kept for later runs. Every table measures the floor
(node:http + postgres.js + the gateway's lookup SQL) beside the gateway, first and last. Where
SoftHSM2 and pkcs11js are installed, the one-process layout is measured again with its P-256 key
generated in a SoftHSM2 token (row h).

options:
  --rows N          beneficiaries in the database (default 1000000)
  --seconds S       measured seconds per row of the table (default 10; 1 s warm-up before)
  --connections C   concurrent connections (default 32)
  --layouts LIST    gateway layouts to measure (default one,logged,cluster):
                      one      one process, access log and audit trail off
                      logged   one process, access log and audit trail to files, as shipped
                      cluster  CLUSTER_WORKERS=auto (one worker per core), logs off
  --scale LIST      also measure JWE P-256 GET latency at a fixed offered rate at these row
                    counts (e.g. 1000000,10000000); needs Go to build scripts/bench/rate
  --rate R          the offered rate for --scale, requests/s (default 1000)
  --out FILE        write the results between the markers of FILE (default BENCHMARKS.md;
                    - for stdout only); the text outside the markers is kept
  --logs DIR        keep the gateway's log and audit log in DIR (default: deleted after the run)
  --smoke           a few thousand requests on 2,000 rows, for CI (report to stdout)
  -h, --help        this text`

const LAYOUTS = ['one', 'logged', 'cluster'] as const
type Layout = (typeof LAYOUTS)[number]

interface Target {
  name: string
  requests: BenchRequest[]
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

/** The seeded beneficiaries the rows ask for: `distinct` of them, spread over the table. */
function sample(rows: number, distinct: number): number[] {
  return Array.from({ length: distinct }, (_, i) => Math.floor((i * 7919) % rows))
}

function plaintextSearch(indexes: number[]): BenchRequest[] {
  return indexes.map((i) => ({
    method: 'POST',
    path: '/v2/fhir/Patient/_search',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: `identifier=${encodeURIComponent(`${PLAIN_SYSTEM}|${seededMbi(i)}`)}`,
  }))
}

async function targets(base: string, jwks: Jwks, indexes: number[]): Promise<Target[]> {
  const p256 = chooseKey(jwks, 'P-256')
  // A ring without an X25519 key (the SoftHSM2 one) has only the P-256 rows.
  const x25519 = jwks.keys.some((k) => k.crv === 'X25519') ? chooseKey(jwks, 'X25519') : undefined
  // The hybrid post-quantum key, where the ring has one.
  const xwing = jwks.keys.some((k) => k.kty === 'AKP') ? chooseKey(jwks, 'X-Wing') : undefined
  const get = (tokens: string[]): BenchRequest[] =>
    tokens.map((t) => {
      const u = new URL(patientSearchUrl(base, t))
      return { method: 'GET', path: u.pathname + u.search }
    })
  const jwe = (key: typeof p256, alg: JweAlg) =>
    Promise.all(indexes.map((i) => encryptMbiJwe(seededMbi(i), key, { alg })))
  const hpke = (key: typeof p256) =>
    Promise.all(indexes.map((i) => encryptMbiHpke(seededMbi(i), key)))
  return [
    { name: BASELINE, requests: plaintextSearch(indexes) },
    { name: '(b) GET JWE ECDH-ES P-256', requests: get(await jwe(p256, 'ECDH-ES')) },
    ...(x25519
      ? [{ name: '(c) GET JWE ECDH-ES X25519', requests: get(await jwe(x25519, 'ECDH-ES')) }]
      : []),
    { name: '(d) GET JWE ECDH-ES+A256KW P-256', requests: get(await jwe(p256, 'ECDH-ES+A256KW')) },
    ...(x25519 ? [{ name: '(e) GET HPKE X25519', requests: get(await hpke(x25519)) }] : []),
    {
      name: '(f) GET /v2/fhir/metadata (static)',
      requests: [{ method: 'GET', path: '/v2/fhir/metadata' }],
    },
    { name: '(g) GET HPKE P-256', requests: get(await hpke(p256)) },
    {
      name: '(i) GET /v2/fhir/Patient/<id> (read by id)',
      requests: indexes.map((i) => ({
        method: 'GET',
        path: `/v2/fhir/Patient/${seededBeneId(i)}`,
      })),
    },
    ...(xwing ? [{ name: XWING_ROW, requests: get(await hpke(xwing)) }] : []),
  ]
}

/**
 * Measures the floor, each target, the baseline (a) again and the floor again, in that order
 * (1 s warm-up before each): the references first and last, so the ratios hold over the table.
 */
async function measureTargets(
  gateway: Server,
  floor: Server,
  list: Target[],
  options: { seconds: number; connections: number; dir: string; cpu?: boolean },
): Promise<Row[]> {
  const { seconds, connections, dir, cpu = true } = options
  const results: Row[] = []
  const floorTarget = { name: FLOOR, requests: list[0]!.requests }
  const plan: [Server, Target][] = [
    [floor, floorTarget],
    ...list.map((t): [Server, Target] => [gateway, t]),
    [gateway, { ...list[0]!, name: `${BASELINE}, again at the end` }],
    [floor, { ...floorTarget, name: `${FLOOR}, again at the end` }],
  ]
  for (const [index, [server, target]] of plan.entries()) {
    const script = await writeWrkScript(dir, `row-${index}`, target.requests)
    await runWrk(server.base, script, 1, connections) // warm-up
    // A cluster's primary serves nothing: its workers' CPU is not counted, so no column there.
    const pid = cpu || server === floor ? server.child.pid : undefined
    const [before, pgBefore, machineBefore] = [
      await mainThreadCpuNs(pid),
      await postgresCpu(),
      await machineTicks(),
    ]
    const measured = await runWrk(server.base, script, seconds, connections)
    const busy = machineBusy(machineBefore, await machineTicks())
    const cpuUs = cpuPerRequestUs(before, await mainThreadCpuNs(pid), measured.requests)
    const postgresUs = postgresUsPerRequest(pgBefore, await postgresCpu(), measured.requests)
    const row: Row = {
      name: target.name,
      ...measured,
      ...(cpuUs === undefined ? {} : { cpuUs }),
      ...(postgresUs === undefined ? {} : { postgresUs }),
      ...(busy === undefined ? {} : { busy }),
    }
    process.stderr.write(
      `${row.name}: ${row.rps.toFixed(0)} req/s, p50 ${row.p50} ms, p99 ${row.p99} ms, errors ${row.errors}, CPU ${cpuUs?.toFixed(0) ?? '-'} µs/request, PostgreSQL ${postgresUs?.toFixed(0) ?? '-'} µs/request, machine ${busy === undefined ? '-' : (busy * 100).toFixed(0)}% busy\n`,
    )
    results.push(row)
  }
  return results
}

async function machine(url: string): Promise<string> {
  const sql = createSql({ url, max: 1 })
  const [pg] = await sql<{ version: string }[]>`select version()`
  await sql.end()
  const cpu = cpus()
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(', ')
  return [
    `- CPU: ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown'}`,
    `- memory: ${(totalmem() / 2 ** 30).toFixed(0)} GiB; ${osType()} ${release()}`,
    `- Node.js ${process.version}; ${pg?.version.split(',')[0] ?? 'PostgreSQL'} on the same machine`,
    '- the load generator (wrk, one thread), the gateway, the floor and PostgreSQL share these cores',
    `- load average (1, 5, 15 min) when the report was written: ${load}`,
  ].join('\n')
}

const LAYOUT_LABEL: Record<Layout, string> = {
  one: 'one process, logs off',
  logged: 'one process, access log and audit trail to files (as shipped)',
  cluster: `CLUSTER_WORKERS=auto (${cpus().length} workers), logs off`,
}

async function main(): Promise<void> {
  const { values } = parse(process.argv.slice(2), {
    rows: { type: 'string' },
    seconds: { type: 'string' },
    connections: { type: 'string' },
    layouts: { type: 'string' },
    scale: { type: 'string' },
    rate: { type: 'string' },
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
  const connections = Math.floor(number(values.connections, smoke ? 4 : 32, 'connections'))
  const layouts = (values.layouts ?? (smoke ? 'one' : LAYOUTS.join(','))).split(',')
  for (const l of layouts) {
    if (!(LAYOUTS as readonly string[]).includes(l)) {
      throw new UsageError(`--layouts takes ${LAYOUTS.join(', ')}; not ${l}`)
    }
  }
  const scale = values.scale
    ? values.scale.split(',').map((r) => Math.floor(number(r, 1, 'scale')))
    : []
  const rate = number(values.rate, 1000, 'rate')
  const out = values.out ?? (smoke ? '-' : 'BENCHMARKS.md')
  if (!(await haveWrk())) {
    throw new UsageError(
      'wrk is not installed (apt-get install wrk): the bench drives the servers with it',
    )
  }

  execFileSync(process.execPath, ['scripts/build.mjs', '--if-needed'], { stdio: 'inherit' })
  // The keys (private JWKs), the load scripts and, unless --logs, the logs live in a directory
  // removed at the end. The logs go in a folder of their own: the key directory's watch also
  // watches its parent, which would otherwise see every log write.
  const work = await mkdtemp(join(tmpdir(), 'sealed-bench-'))
  const logs = values.logs ?? join(work, 'logs')
  await mkdir(logs, { recursive: true })
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
    const scripts = join(work, 'load')
    await mkdir(scripts)
    await addGeneratedKey(keysDir, 'P-256')
    await addGeneratedKey(keysDir, 'X25519')
    await addGeneratedKey(keysDir, 'X-Wing')
    const env = (schema: string, layout: Layout): NodeJS.ProcessEnv => ({
      ...processEnvironment(),
      PORT: '0',
      DATABASE_URL: url,
      DATABASE_SCHEMA: schema,
      KEYS_DIR: keysDir,
      KEYS_AUTOGENERATE: 'false',
      CLUSTER_WORKERS: layout === 'cluster' ? 'auto' : '0',
      DB_POOL_SIZE: '10',
      LOG_LEVEL: layout === 'logged' ? 'info' : 'silent',
      AUDIT_LOG: layout === 'logged' ? join(logs, 'audit.log') : '/dev/null',
    })
    const gatewayLog = (layout: Layout) =>
      layout === 'logged' ? join(logs, 'gateway.log') : '/dev/null'
    const jwksOf = async (server: Server) =>
      JSON.parse(await (await fetch(`${server.base}/.well-known/jwks.json`)).text()) as Jwks

    const report: string[] = []
    const verdicts: string[] = []
    const schema = await ensureSeeded(url, rows)
    const indexes = sample(rows, smoke ? 50 : 500)
    const floor = await startFloor(env(schema, 'one'), join(logs, 'floor.log'))
    const measured = new Map<Layout, Row[]>()
    try {
      for (const layout of layouts as Layout[]) {
        const gateway = await startGateway(env(schema, layout), gatewayLog(layout))
        try {
          const list = await targets(gateway.base, await jwksOf(gateway), indexes)
          const results = await measureTargets(gateway, floor, list, {
            seconds,
            connections,
            dir: scripts,
            cpu: layout !== 'cluster',
          })
          measured.set(layout, results)
          report.push(
            `### ${rows.toLocaleString('en-US')} rows, ${LAYOUT_LABEL[layout]}, ${connections} connections, ${seconds} s per row\n\n${table(results)}`,
          )
          if (layout !== 'cluster') {
            const slack = layout === 'logged' ? 0.9 : 1
            const label = layout === 'logged' ? 'logs on, within 10%' : 'one process'
            verdicts.push(...floorVerdicts(results, slack).map((v) => `${label}: ${v}`))
            verdicts.push(...baselineVerdicts(results, slack).map((v) => `${label}: ${v}`))
            const steady = steadyVerdict(results)
            if (steady) verdicts.push(`${label}: ${steady}`)
          }
        } finally {
          await gateway.stop()
        }
      }
      const one = measured.get('one')
      const cluster = measured.get('cluster')
      if (one && cluster) verdicts.push(clusterVerdict(one, cluster, cpus().length))

      // The key in a PKCS#11 token (SoftHSM2), where installed: the same one-process gateway
      // with its P-256 key in the token, against the floor and its own plaintext baseline.
      const hsm = layouts.includes('one') ? await softHsm(join(work, 'hsm')) : undefined
      if (hsm) {
        const gateway = await startGateway(
          {
            ...env(schema, 'one'),
            KEYS_DIR: join(work, 'hsm', 'keys'),
            PKCS11_MODULE: hsm.pkcs11.module,
            PKCS11_TOKEN_LABEL: hsm.pkcs11.tokenLabel,
            PKCS11_PIN: hsm.pkcs11.pin,
            SOFTHSM2_CONF: hsm.pkcs11.conf,
          },
          '/dev/null',
        )
        try {
          const [baseline, jweP256] = await targets(gateway.base, await jwksOf(gateway), indexes)
          const list = [
            baseline!,
            { ...jweP256!, name: '(h) GET JWE ECDH-ES P-256, key in SoftHSM2' },
          ]
          const results = await measureTargets(gateway, floor, list, {
            seconds,
            connections,
            dir: scripts,
          })
          report.push(
            `### ${rows.toLocaleString('en-US')} rows, one process, P-256 key in a SoftHSM2 token (PKCS#11), ${connections} connections, ${seconds} s per row\n\n${table(results)}`,
          )
        } finally {
          await gateway.stop()
        }
      }
    } finally {
      await floor.stop()
    }

    if (scale.length) {
      const tool = await buildRateTool(work)
      const lines = [RATE_HEADER]
      for (const n of scale) {
        const s = await ensureSeeded(url, n)
        const gateway = await startGateway(env(s, 'one'), '/dev/null')
        try {
          const [, jweP256] = await targets(gateway.base, await jwksOf(gateway), sample(n, 1000))
          const paths = join(scripts, `paths-${n}.txt`)
          await writeFile(paths, jweP256!.requests.map((r) => r.path).join('\n') + '\n')
          await runFixedRate(tool, gateway.base, paths, rate, Math.min(2, seconds)) // warm-up
          const r = await runFixedRate(tool, gateway.base, paths, rate, seconds)
          process.stderr.write(`${n} rows at ${rate}/s: p50 ${r.p50} ms, p99 ${r.p99} ms\n`)
          lines.push(rateRow(n, r))
        } finally {
          await gateway.stop()
        }
      }
      report.push(
        `### Latency at ${rate.toLocaleString('en-US')} requests/s offered (JWE ECDH-ES P-256 GET, one process, logs off, ${seconds} s)\n\nA fixed rate, not a closed loop (scripts/bench/rate): each request's latency counts from when it was due, so a stall shows in the tail.\n\n${lines.join('\n')}`,
      )
    }

    const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim()
    const summary = verdicts.length
      ? `\n\nTargets:\n\n${verdicts.map((v) => `- ${v}`).join('\n')}`
      : ''
    const text = `Measured ${new Date().toISOString().slice(0, 10)} with \`${command}\`\n(DATABASE_URL pointing at a local PostgreSQL server). Tokens are made before the run, so the load generator measures the gateway, not the encryption. Each table measures the floor (plain node:http, postgres.js, the gateway's own lookup SQL, the rows as JSON) and the plaintext baseline (a) first and again last; the larger rate of each is what the ratios divide by.\n\nMachine:\n\n${await machine(url)}\n\n${report.join('\n\n')}${summary}\n`
    process.stdout.write(text)
    if (out !== '-') {
      await writeGenerated(out, text)
      process.stderr.write(`wrote the results between the markers of ${out}\n`)
    }
  }
}

run(main, USAGE)
