/**
 * Fills the legacy_mbi_hash table for the deprecated mbi-hash search:
 * `npm run legacy-hash -- --iterations N [--pepper-file FILE | --pepper-hex HEX]`.
 * Uses DATABASE_URL, or the embedded database under DATA_DIR (refused while a gateway holds it).
 * Resumable: only MBIs without a hash are hashed, each batch committed on its own.
 */
import { readFileSync } from 'node:fs'
import { Presets, SingleBar } from 'cli-progress'
import { legacyHashPepper, loadConfig } from '../src/config/index.js'
import { openDatabase } from '../src/db/connect.js'
import { fillLegacyHashes, resetLegacyHashes } from '../src/db/legacy-hash.js'
import { migrate } from '../src/db/migrate.js'
import { parse, run, UsageError } from './cli.js'

const USAGE = `usage: npm run legacy-hash -- --iterations N [--pepper-file FILE | --pepper-hex HEX]
                                [--batch-size N] [--reset]

Hashes every current and historical MBI that has no legacy hash yet into legacy_mbi_hash
(PBKDF2-HMAC-SHA256, the MBI as password, the pepper bytes as salt, 32 bytes, lower-case hex),
for the deprecated search by https://bluebutton.cms.gov/resources/identifier/mbi-hash.
Safe to stop and run again: it picks up the MBIs still missing.

  --iterations N     the PBKDF2 iteration count of the legacy system (required)
  --pepper-file FILE a file holding the pepper, hex-encoded (preferred)
  --pepper-hex HEX   the pepper on the command line (visible to ps and shell history)
                     without either: LEGACY_HASH_PEPPER or LEGACY_HASH_PEPPER_FILE
  --batch-size N     MBIs per batch (default 1000)
  --reset            empty legacy_mbi_hash first (to re-hash with another pepper or count)
  -h, --help         this text

The pepper is a secret: it is never printed, logged or stored.`

const HEX = /^(?:[0-9a-fA-F]{2})+$/

function wholeNumber(name: string, raw: string | undefined, min: number, max: number): number {
  const value = Number(raw)
  if (raw === undefined || !/^\d+$/.test(raw) || value < min || value > max) {
    throw new UsageError(`${name} must be a whole number from ${min} to ${max}`)
  }
  return value
}

/** The pepper from exactly one source; a bad value is refused without echoing it. */
function pepperFrom(values: { 'pepper-hex'?: string; 'pepper-file'?: string }): Buffer {
  const fromEnv = legacyHashPepper()
  const given = [values['pepper-hex'], values['pepper-file'], fromEnv].filter(
    (v) => v !== undefined,
  )
  if (given.length === 0) {
    throw new UsageError('give the pepper: --pepper-file, --pepper-hex or LEGACY_HASH_PEPPER')
  }
  if (given.length > 1) {
    throw new UsageError(
      'give the pepper once: --pepper-file, --pepper-hex or LEGACY_HASH_PEPPER, not several',
    )
  }
  if (fromEnv) return fromEnv
  let hex = values['pepper-hex']
  const file = values['pepper-file']
  if (file !== undefined) {
    try {
      hex = readFileSync(file, 'utf8').trim()
    } catch {
      throw new UsageError(`--pepper-file: cannot read ${file}`)
    }
  }
  if (!hex || !HEX.test(hex)) throw new UsageError('the pepper must be hex-encoded bytes')
  return Buffer.from(hex, 'hex')
}

async function main(): Promise<void> {
  const { values } = parse(process.argv.slice(2), {
    iterations: { type: 'string' },
    'pepper-hex': { type: 'string' },
    'pepper-file': { type: 'string' },
    'batch-size': { type: 'string' },
    reset: { type: 'boolean' },
    help: { type: 'boolean' },
  })
  if (values.help) {
    process.stdout.write(USAGE + '\n')
    return
  }
  const iterations = wholeNumber('--iterations', values.iterations, 1, 10_000_000)
  const batchSize = wholeNumber('--batch-size', values['batch-size'] ?? '1000', 1, 100_000)
  const pepper = pepperFrom(values)

  const db = await openDatabase(loadConfig().db)
  try {
    await migrate(db.sql)
    if (values.reset) await resetLegacyHashes(db.sql)
    const bar = new SingleBar(
      {
        format: 'hashing [{bar}] {percentage}% | {value}/{total} | {eta_formatted} left',
        noTTYOutput: true,
        notTTYSchedule: 5000,
        stream: process.stderr,
      },
      Presets.shades_classic,
    )
    const started = performance.now()
    let barStarted = false
    const result = await fillLegacyHashes(db.sql, {
      pepper,
      iterations,
      batchSize,
      onProgress: (done, total) => {
        if (!barStarted) {
          bar.start(total, 0)
          barStarted = true
        }
        bar.update(done)
      },
    })
    bar.stop()
    pepper.fill(0)
    const seconds = (performance.now() - started) / 1000
    process.stdout.write(
      `hashed ${result.hashed} MBIs (${result.present} already had a hash) in ${seconds.toFixed(1)} s\n`,
    )
  } finally {
    await db.close()
  }
}

run(main, USAGE)
