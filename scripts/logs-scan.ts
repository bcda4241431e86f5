/**
 * `npm run logs:scan -- FILE... | -`: counts the identifier tokens in access logs by key and the
 * key's state now, and finds plaintext identifiers. Exit 0: no plaintext; 3: plaintext found;
 * 1: a file could not be read to its end; 2: a bad command line.
 */
import { stat } from 'node:fs/promises'
import { Presets, SingleBar } from 'cli-progress'
import { loadConfig } from '../src/config/index.js'
import { openKeyStore } from '../src/keys/index.js'
import {
  buildReport,
  emptyTotals,
  fetchJwksRing,
  fileSource,
  renderReport,
  ringFromEntries,
  scanSource,
  type ScanRing,
} from '../src/logscan/index.js'
import { parse, run, UsageError } from './cli.js'

const USAGE = `usage: npm run logs:scan -- [--jwks URL] [--dir DIR] [--json] FILE... | -

Reads access logs (the gateway's JSON lines, Common and Combined Log Format from nginx, haproxy
or Apache, ALB access logs), plain or gzip, - for standard input, and prints: lines and
identifier tokens found; per key (kid or hpkeKeyId) the token count, the key's curve and its state
now, so how many logged tokens can still be decrypted and how many are classic rather than hybrid;
every plaintext MBI- or HICN-shaped value (any spelling the gateway masks) by file and line,
masked.
  --jwks URL   read the keys from a published JWKS (active keys only) instead of the store
  --dir DIR    key directory, for KEY_STORE=dir (default: $KEYS_DIR or keys)
  --json       the report as one JSON object
  -h, --help   this text
The store is KEY_STORE's; only its public records are read, no private key is opened.
Exit status: 0 no plaintext found, 3 plaintext found, 1 a file not read to its end, 2 usage.`

async function readRing(jwks: string | undefined, dir: string | undefined): Promise<ScanRing> {
  if (jwks) {
    if (dir) throw new UsageError('give --jwks or --dir, not both')
    return fetchJwksRing(jwks)
  }
  const config = loadConfig()
  if (dir !== undefined && config.keys.store !== 'dir') {
    throw new UsageError('--dir is for KEY_STORE=dir; KEY_STORE=postgres keeps no key files')
  }
  const store = openKeyStore(
    {
      kind: config.keys.store,
      dir: dir ?? config.keys.dir,
      passphrase: undefined,
      databaseUrl: config.db.url,
      databaseSchema: config.db.schema,
    },
    { listen: false },
  )
  try {
    return ringFromEntries(store.location, (await store.read()).entries)
  } finally {
    await store.close()
  }
}

async function main(): Promise<void> {
  const { values, positionals } = parse(process.argv.slice(2), {
    jwks: { type: 'string' },
    dir: { type: 'string' },
    json: { type: 'boolean' },
  })
  if (values.help) return void process.stdout.write(USAGE + '\n')
  if (positionals.length === 0) throw new UsageError('give one or more log files, or - for stdin')
  const ring = await readRing(values.jwks, values.dir)
  const totals = emptyTotals()
  const sizes = await Promise.all(
    positionals.map((p) =>
      p === '-'
        ? 0
        : stat(p).then(
            (s) => s.size,
            () => 0,
          ),
    ),
  )
  const bar = process.stderr.isTTY
    ? new SingleBar(
        {
          format: 'scanning [{bar}] {percentage}% | {value}/{total} bytes',
          stream: process.stderr,
        },
        Presets.shades_classic,
      )
    : undefined
  bar?.start(
    sizes.reduce((a, b) => a + b, 0),
    0,
  )
  let read = 0
  for (const path of positionals) {
    await scanSource(totals, fileSource(path), (n) => bar?.update((read += n)))
  }
  bar?.stop()
  const report = buildReport(totals, ring)
  process.stdout.write(values.json ? JSON.stringify(report) + '\n' : renderReport(report))
  process.exitCode = report.plaintext.count > 0 ? 3 : totals.unread > 0 ? 1 : 0
}

run(main, USAGE)
