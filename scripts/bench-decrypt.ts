/**
 * Decryptions per second on one core, for each token format and curve: the gateway's path
 * (openToken: native node:crypto for JWE) next to jose's compactDecrypt behind the same checks,
 * and node's own ECDH key-agreement rate, all measured in this one run.
 *   npm run bench:decrypt -- [--seconds S] [--tokens N]
 */
import { execFile, fork, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { promisify } from 'node:util'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as client from '@sealed-search/client'
import { openToken } from '../src/crypto/token.js'
import { syntheticMbi } from '../src/identifiers/synthetic.js'
import type { Curve, KeyAlgorithm } from '../src/keys/jwk.js'
import { processEnvironment } from '../src/config/environment.js'
import type { KeyRing } from '../src/keys/ring/keyring.js'
import { loadKeyRing } from '../src/keys/ring/open-key.js'
import { addGeneratedKey } from '../src/keys/custody/bootstrap.js'
import type { FromMeter, MeterSetup, MeterWindow, ToMeter } from './bench/decrypt-meter.js'
import { softHsm } from './bench/softhsm.js'
import { parse, run, UsageError } from './cli.js'

/** Each row's time is spread over this many windows, taken in turn; its rate is their median. */
const ROUNDS = 8

const USAGE = `usage: npm run bench:decrypt -- [--seconds S] [--tokens N]

Measures, one operation at a time, for S seconds per row (default 2):
  JWE ECDH-ES and ECDH-ES+A256KW (A256GCM) with P-256 and X25519, and HPKE when supported:
  the gateway's decrypt path and jose's compactDecrypt on the same N pre-generated tokens
  (default 200, each with its own ephemeral key); the fastest node:crypto agreement alone (the
  native limit: ECDH.computeSecret for P-256, diffieHellman for X25519); OpenSSL's own ceiling
  (openssl speed -seconds S ecdhp256 ecdhx25519, run in the same run); and, where SoftHSM2 and
  pkcs11js are installed, the gateway's path with the P-256 key in a PKCS#11 token.
Each measurement runs in a process of its own; only one runs at a time. Each row's time is spread
over ${ROUNDS} windows taken in turn, so load that drifts during the run weighs on every row alike,
and its rate is the median of its windows, so a burst of load from elsewhere does not decide it.
Prints one table and the ratios against the targets (PASS/MISS).

  --seconds S   seconds per row (default 2)
  --tokens N    pre-generated tokens per row (default 200)
  -h, --help    this text`

/** Targets, as ratios from one run; hybrid tokens opened per CPU-second. */
const TARGETS = {
  x25519OverJose: 5,
  x25519OfEcdh: 0.6,
  p256OverJose: 2.5,
  /** JWE ECDH-ES on each curve, as a share of `openssl speed`'s ECDH rate. */
  ofOpenssl: 0.5,
  /** The gateway's PKCS#11 path, as a share of the same token's raw C_DeriveKey rate. */
  ofToken: 0.5,
  /** Hybrid (X-Wing) tokens opened per CPU-second. */
  hybridPerSecond: 5000,
}

type Encrypt = (mbi: string, key: { publicJwk: client.GatewayJwk }) => Promise<string>
interface Row {
  name: string
  crv: KeyAlgorithm
  /** What the meter times (default: the gateway's openToken, or jose's for the jose column). */
  kind?: MeterSetup['kind']
  jwe: boolean
  encrypt: Encrypt
  /** The key is in the SoftHSM2 token, not in process. */
  hsm?: boolean
}

/** ECDH operations/s of OpenSSL itself (`openssl speed`), per curve: the ceiling. */
async function opensslCeiling(seconds: number): Promise<Partial<Record<Curve, number>>> {
  const { stdout } = await promisify(execFile)('openssl', [
    'speed',
    '-seconds',
    String(Math.max(1, Math.round(seconds))),
    'ecdhp256',
    'ecdhx25519',
  ])
  const rate = (pattern: RegExp) => {
    const m = pattern.exec(stdout)
    return m ? Number(m[1]) : undefined
  }
  const out: Partial<Record<Curve, number>> = {}
  const p256 = rate(/ecdh \(nistp256\)\s+\S+s\s+([\d.]+)/)
  const x25519 = rate(/ecdh \(X25519\)\s+\S+s\s+([\d.]+)/)
  if (p256) out['P-256'] = p256
  if (x25519) out.X25519 = x25519
  return out
}

function jweRow(alg: 'ECDH-ES' | 'ECDH-ES+A256KW', crv: Curve): Row {
  return {
    name: `JWE ${alg} ${crv}`,
    crv,
    jwe: true,
    encrypt: (mbi, key) => client.encryptMbiJwe(mbi, key.publicJwk, { alg, enc: 'A256GCM' }),
  }
}

/** HPKE rows when the client can make HPKE tokens and openToken opens them. */
async function hpkeRows(ring: KeyRing): Promise<Row[]> {
  const seal = (client as { encryptMbiHpke?: (mbi: string, jwk: object) => Promise<string> })
    .encryptMbiHpke
  if (!seal) return []
  const rows: Row[] = (['X25519', 'P-256'] as const).map((crv) => ({
    name: `HPKE ${crv}`,
    crv,
    jwe: false,
    encrypt: (mbi, key) => seal(mbi, key.publicJwk),
  }))
  try {
    const key = ring.keys.find((k) => k.crv === 'X25519')!
    await openToken(await rows[0]!.encrypt(syntheticMbi(0), key), ring, new Date())
    return rows
  } catch {
    return []
  }
}

/**
 * The hybrid token (X-Wing) through the gateway's path, and ML-KEM-768 decapsulation alone in the
 * two implementations measured to choose one (README, Dependencies): liboqs in WebAssembly and
 * @noble/post-quantum in pure JavaScript.
 */
function hybridRows(): Row[] {
  const encrypt: Encrypt = (mbi, key) => client.encryptMbiHpke(mbi, key.publicJwk)
  return [
    { name: 'HPKE X-Wing (hybrid)', crv: 'X-Wing', jwe: false, encrypt },
    {
      name: 'ML-KEM-768 decaps (liboqs WASM)',
      crv: 'X-Wing',
      jwe: false,
      encrypt,
      kind: 'mlkem-liboqs',
    },
    {
      name: 'ML-KEM-768 decaps (noble, JS)',
      crv: 'X-Wing',
      jwe: false,
      encrypt,
      kind: 'mlkem-noble',
    },
  ]
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** A measurement process (bench/decrypt-meter.ts) and the windows it measured. */
class Meter {
  readonly windows: MeterWindow[] = []
  readonly #child: ChildProcess
  #pending: ((message: FromMeter) => void) | undefined

  /** `env`: variables the meter's libraries read for themselves (SOFTHSM2_CONF). */
  constructor(env: Record<string, string> = {}) {
    const path = fileURLToPath(new URL('./bench/decrypt-meter.ts', import.meta.url))
    this.#child = fork(path, [], {
      execArgv: process.execArgv,
      stdio: 'inherit',
      env: { ...processEnvironment(), ...env },
    })
    this.#child.on('message', (message: FromMeter) => this.#pending?.(message))
    this.#child.on('exit', (code) =>
      this.#pending?.({ error: `the meter exited with ${code} before answering` }),
    )
  }

  #ask(message: ToMeter): Promise<FromMeter> {
    return new Promise((resolve, reject) => {
      this.#pending = (answer) => {
        this.#pending = undefined
        if ('error' in answer) reject(new Error(answer.error))
        else resolve(answer)
      }
      this.#child.send(message)
    })
  }

  async setup(setup: MeterSetup): Promise<void> {
    await this.#ask({ setup })
  }

  async run(ms: number): Promise<void> {
    const { window } = (await this.#ask({ run: ms })) as { window: MeterWindow }
    this.windows.push(window)
  }

  /** Per CPU-second of the meter process (all its threads: libuv's pool and GC helpers too). */
  perCpuSecond(): number {
    return median(this.windows.map((w) => w.ops / (w.cpuMicros / 1e6)))
  }

  perWallSecond(): number {
    return median(this.windows.map((w) => w.ops / (w.ms / 1000)))
  }

  close(): void {
    if (this.#child.connected) this.#child.send({ exit: true } satisfies ToMeter)
  }
}

const int = (n: number) => Math.round(n).toLocaleString('en-US')
const times = (n: number) => `${n.toFixed(2)}x`
const percent = (n: number) => `${Math.round(n * 100)}%`

async function main(): Promise<void> {
  const { values } = parse(process.argv.slice(2), {
    seconds: { type: 'string' },
    tokens: { type: 'string' },
    help: { type: 'boolean' },
  })
  if (values.help) {
    process.stdout.write(USAGE + '\n')
    return
  }
  const seconds = Number(values.seconds ?? '2')
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 600) {
    throw new UsageError('--seconds must be a number of seconds above 0, at most 600')
  }
  const count = Number(values.tokens ?? '200')
  if (!Number.isInteger(count) || count < 1 || count > 100_000) {
    throw new UsageError('--tokens must be a whole number from 1 to 100000')
  }

  const dir = await mkdtemp(join(tmpdir(), 'bench-decrypt-'))
  const meters: Meter[] = []
  try {
    await addGeneratedKey(dir, 'P-256')
    await addGeneratedKey(dir, 'X25519')
    await addGeneratedKey(dir, 'X-Wing')
    const ring = await loadKeyRing(dir)
    const keyOf = (crv: KeyAlgorithm) =>
      crv === 'X-Wing' ? ring.hybridKeys[0]! : ring.keys.find((k) => k.crv === crv)!
    const hsmDir = join(dir, 'hsm')
    const hsm = await softHsm(hsmDir)
    const rows: Row[] = [
      jweRow('ECDH-ES', 'P-256'),
      jweRow('ECDH-ES', 'X25519'),
      jweRow('ECDH-ES+A256KW', 'P-256'),
      jweRow('ECDH-ES+A256KW', 'X25519'),
      ...(await hpkeRows(ring)),
      ...hybridRows(),
      ...(hsm
        ? [
            {
              ...jweRow('ECDH-ES', 'P-256'),
              name: 'JWE ECDH-ES P-256 (PKCS#11, SoftHSM2)',
              hsm: true,
            },
            {
              ...jweRow('ECDH-ES', 'P-256'),
              name: 'HPKE P-256 (PKCS#11, SoftHSM2)',
              jwe: false,
              encrypt: ((mbi, key) => client.encryptMbiHpke(mbi, key.publicJwk)) as Encrypt,
              hsm: true,
            },
          ]
        : []),
    ]

    // Tokens are made here, before any timing; every meter checks its tokens open right.
    const mbis = Array.from({ length: count }, (_, i) => syntheticMbi(i))
    const setup = async (row: Row, kind: MeterSetup['kind']): Promise<Meter> => {
      const key = row.hsm ? hsm!.key : keyOf(row.crv)
      const tokens = await Promise.all(mbis.map((mbi) => row.encrypt(mbi, key)))
      const meter = new Meter(row.hsm ? { SOFTHSM2_CONF: hsm!.pkcs11.conf } : {})
      meters.push(meter)
      const where = row.hsm ? { dir: join(hsmDir, 'keys'), pkcs11: hsm!.pkcs11 } : { dir }
      await meter.setup({ ...where, kind, kid: key.kid, tokens, mbis })
      return meter
    }
    // The native limit: diffieHellman alone, on the epks of ECDH-ES tokens, already imported.
    const limits = {
      'P-256': await setup(jweRow('ECDH-ES', 'P-256'), 'ecdh'),
      X25519: await setup(jweRow('ECDH-ES', 'X25519'), 'ecdh'),
    }
    // The token's own rate: C_DeriveKey alone with the same key, where a token is installed.
    const tokenLimit = hsm
      ? await setup({ ...jweRow('ECDH-ES', 'P-256'), hsm: true }, 'token')
      : undefined
    const measured: { row: Row; gateway: Meter; jose: Meter | undefined }[] = []
    for (const row of rows) {
      measured.push({
        row,
        gateway: await setup(row, row.kind ?? 'gateway'),
        jose: row.jwe && !row.hsm ? await setup(row, 'jose') : undefined,
      })
    }

    const cpu = cpus()
    process.stdout.write(
      `bench:decrypt: one operation at a time, one measurement at a time (each in its own ` +
        `process), ${seconds} s per row in ${ROUNDS} windows, ${count} pre-generated tokens per row\n` +
        `median rates per CPU-second of the measuring process (the ratios use these); ` +
        `wall-clock rates at right\n` +
        `node ${process.version}, OpenSSL ${process.versions.openssl}, ` +
        `${cpu[0]?.model.trim() ?? 'unknown CPU'} x ${cpu.length}\n\n`,
    )
    for (let round = 0; round < ROUNDS; round++) {
      for (const meter of meters) await meter.run((seconds * 1000) / ROUNDS)
    }

    const limit = { 'P-256': limits['P-256'].perCpuSecond(), X25519: limits.X25519.perCpuSecond() }
    const ceiling = await opensslCeiling(seconds)
    const ofCeiling = (crv: Curve, rate: number) => {
      const c = ceiling[crv]
      return c ? percent(rate / c) : '-'
    }
    const results = measured.map(({ row, gateway, jose }) => ({
      row,
      native: gateway.perCpuSecond(),
      jose: jose?.perCpuSecond(),
      wall: [gateway.perWallSecond(), jose?.perWallSecond()] as const,
    }))
    const table = [
      [
        'row',
        'gateway/s',
        'jose/s',
        'gateway÷jose',
        'of ECDH limit',
        'wall: gateway/s',
        'jose/s',
        'of OpenSSL',
      ],
      ...results.map(({ row, native, jose, wall }) => [
        row.name,
        int(native),
        jose === undefined ? '-' : int(jose),
        jose === undefined ? '-' : times(native / jose),
        row.crv === 'X-Wing' ? '-' : percent(native / limit[row.crv]),
        int(wall[0]),
        wall[1] === undefined ? '-' : int(wall[1]),
        row.crv === 'X-Wing' ? '-' : ofCeiling(row.crv, native),
      ]),
      ...(['P-256', 'X25519'] as const).map((crv) => [
        `ECDH limit ${crv} (${crv === 'P-256' ? 'computeSecret' : 'diffieHellman'})`,
        int(limit[crv]),
        '-',
        '-',
        '100%',
        int(limits[crv].perWallSecond()),
        '-',
        ofCeiling(crv, limit[crv]),
      ]),
      ...(tokenLimit
        ? [
            [
              'PKCS#11 limit P-256 (C_DeriveKey, SoftHSM2)',
              int(tokenLimit.perCpuSecond()),
              '-',
              '-',
              percent(tokenLimit.perCpuSecond() / limit['P-256']),
              int(tokenLimit.perWallSecond()),
              '-',
              ofCeiling('P-256', tokenLimit.perCpuSecond()),
            ],
          ]
        : []),
      ...(['P-256', 'X25519'] as const).map((crv) => [
        `OpenSSL ceiling ${crv} (openssl speed)`,
        ceiling[crv] === undefined ? '-' : int(ceiling[crv]!),
        '-',
        '-',
        ceiling[crv] === undefined ? '-' : percent(ceiling[crv]! / limit[crv]),
        '-',
        '-',
        ceiling[crv] === undefined ? '-' : '100%',
      ]),
    ]
    const widths = table[0]!.map((_, c) => Math.max(...table.map((r) => r[c]!.length)))
    const line = (r: string[]) =>
      r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')
    process.stdout.write(table.map(line).join('\n') + '\n\ntargets\n')

    // Each target: its label, the CPU-rate ratio (the verdict), the wall-clock ratio (shown).
    const checks: [string, number, number, number, (n: number) => string][] = []
    for (const { row, native, jose, wall } of results) {
      if (!row.jwe || jose === undefined || wall[1] === undefined) continue
      const overJose = TARGETS[row.crv === 'X25519' ? 'x25519OverJose' : 'p256OverJose']
      checks.push([
        `${row.name} >= ${overJose}x jose`,
        native / jose,
        wall[0] / wall[1],
        overJose,
        times,
      ])
      if (row.crv === 'X25519') {
        checks.push([
          `${row.name} >= ${percent(TARGETS.x25519OfEcdh)} of ECDH limit`,
          native / limit.X25519,
          wall[0] / limits.X25519.perWallSecond(),
          TARGETS.x25519OfEcdh,
          percent,
        ])
      }
    }
    for (const { row, native, wall } of results) {
      const c = row.crv === 'X-Wing' ? undefined : ceiling[row.crv]
      if (row.jwe && !row.hsm && row.name.startsWith('JWE ECDH-ES ') && c !== undefined) {
        const label = `${row.name} >= ${percent(TARGETS.ofOpenssl)} of OpenSSL`
        checks.push([label, native / c, wall[0] / c, TARGETS.ofOpenssl, percent])
      }
      if (row.hsm && row.jwe && tokenLimit) {
        checks.push([
          `${row.name} >= ${percent(TARGETS.ofToken)} of C_DeriveKey`,
          native / tokenLimit.perCpuSecond(),
          wall[0] / tokenLimit.perWallSecond(),
          TARGETS.ofToken,
          percent,
        ])
      }
      if (row.crv === 'X-Wing' && row.kind === undefined) {
        checks.push([
          `${row.name} >= ${int(TARGETS.hybridPerSecond)}/s`,
          native,
          wall[0],
          TARGETS.hybridPerSecond,
          int,
        ])
      }
    }
    const labelWidth = Math.max(...checks.map(([label]) => label.length))
    for (const [label, value, wallValue, target, format] of checks) {
      const verdict = value >= target ? 'PASS' : 'MISS'
      process.stdout.write(
        `  ${label.padEnd(labelWidth)}  ${format(value).padStart(6)}  ${verdict}` +
          `  (wall clock: ${format(wallValue)})\n`,
      )
    }
  } finally {
    for (const meter of meters) meter.close()
    await rm(dir, { recursive: true, force: true })
  }
}

run(main, USAGE)
