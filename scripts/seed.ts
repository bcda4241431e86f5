/**
 * Loads synthetic beneficiaries: `npm run seed -- --count N`.
 * Uses DATABASE_URL, or the embedded database under DATA_DIR, which one process at a time opens:
 * while a gateway holds it, the script refuses (exit 1) before touching it. Rows already present are kept.
 */
import { SingleBar, Presets } from 'cli-progress'
import { loadConfig } from '../src/config/index.js'
import { openDatabase } from '../src/db/connect.js'
import { migrate } from '../src/db/migrate.js'
import { seed } from '../src/db/seed.js'
import { parse, run, UsageError } from './cli.js'

const USAGE = `usage: npm run seed -- [--count N]

Loads N synthetic beneficiaries (default 1000; negative bene_ids, MBIs with S in position 2,
every 5th with an earlier MBI in beneficiaries_history) plus two that share one MBI.
Uses DATABASE_URL, or the embedded database under DATA_DIR (refused while a gateway holds it).

  --count N   beneficiaries to load (default 1000)
  -h, --help  this text`

async function main(): Promise<void> {
  const { values } = parse(process.argv.slice(2), {
    count: { type: 'string' },
    help: { type: 'boolean' },
  })
  if (values.help) {
    process.stdout.write(USAGE + '\n')
    return
  }
  const count = Number(values.count ?? '1000')
  if (!Number.isInteger(count) || count < 0 || count > 100_000_000) {
    throw new UsageError('--count must be a whole number from 0 to 100000000')
  }
  const db = await openDatabase(loadConfig().db)
  try {
    await migrate(db.sql)
    const bar = new SingleBar(
      {
        format: 'seeding [{bar}] {percentage}% | {value}/{total} | {eta_formatted} left',
        noTTYOutput: true,
        notTTYSchedule: 5000,
        stream: process.stderr,
      },
      Presets.shades_classic,
    )
    const started = performance.now()
    bar.start(count, 0)
    await seed(db.sql, { count, onProgress: (done) => bar.update(done) })
    bar.stop()
    const seconds = (performance.now() - started) / 1000
    process.stdout.write(
      `seeded ${count} beneficiaries (+2 sharing one MBI) in ${seconds.toFixed(1)} s\n`,
    )
  } finally {
    await db.close()
  }
}

run(main, USAGE)
