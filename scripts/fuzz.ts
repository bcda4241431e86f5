/**
 * The long fuzz run: `npm run fuzz -- [--runs N] [--seed S]`. The same properties as the CI-sized
 * test/crypto/fuzz.test.ts, with many more runs, on the embedded database (or DATABASE_URL). Prints the
 * runs, crashes and 5xx answers; exits 1 on any.
 */
import fc from 'fast-check'
import { startEmbeddedDatabase } from '../src/db/embedded.js'
import { migrate } from '../src/db/migrate.js'
import { seed } from '../src/db/seed.js'
import { createSql } from '../src/db/sql.js'
import { createApp } from '../src/http/app.js'
import { staticKeyRing } from '../src/keys/ring/keyring.js'
import { createLogger } from '../src/log/logger.js'
import { twoKeyRing } from '../test/support/keys.js'
import { removeTempDirs } from '../test/support/temp.js'
import {
  ACCEPTABLE_STATUSES,
  hostileQuery,
  mutatedToken,
  opensOrRefusesCleanly,
  tokenLike,
} from '../test/support/fuzz.js'
import { parse, run, UsageError } from './cli.js'

const USAGE = `usage: npm run fuzz -- [--runs N] [--seed S]

Runs the properties of test/crypto/fuzz.test.ts many more times, on an in-memory embedded database:
the token parser on random strings and on edited tokens, and the search route on hostile queries.
Prints the runs, crashes and HTTP statuses; exits 1 on a crash or a 5xx answer.

  --runs N    token-parser runs (default 100000; a quarter as many for the other properties)
  --seed S    fast-check seed, to replay a run (default: the current time, printed)
  -h, --help  this text`

async function main(): Promise<void> {
  const { values } = parse(process.argv.slice(2), {
    runs: { type: 'string' },
    seed: { type: 'string' },
  })
  if (values.help) return void process.stdout.write(USAGE + '\n')
  const runs = Number(values.runs ?? '100000')
  if (!Number.isInteger(runs) || runs <= 0)
    throw new UsageError('--runs must be a positive whole number')
  const seedValue = values.seed === undefined ? Date.now() : Number(values.seed)
  if (!Number.isInteger(seedValue)) throw new UsageError('--seed must be a whole number')
  const db = await startEmbeddedDatabase()
  const sql = createSql({ url: db.url, max: 1 })
  await migrate(sql)
  await seed(sql, { count: 50 })
  const { ring } = await twoKeyRing()
  const app = createApp({
    keys: staticKeyRing(ring),
    sql,
    logger: createLogger('silent'),
    publicBaseUrl: 'http://fuzz.test',
  })
  const statuses = new Map<number, number>()
  let fiveHundreds = 0
  const report = <T>(name: string, result: fc.RunDetails<T>) => {
    process.stdout.write(
      `${name.padEnd(28)} runs ${result.numRuns}  ${result.failed ? `FAILED (seed ${seedValue}): ${result.counterexample}` : 'crashes 0'}\n`,
    )
    return result.failed ? 1 : 0
  }
  let failures = 0
  const started = Date.now()
  failures += report(
    'token parser, strings',
    await fc.check(
      fc.asyncProperty(tokenLike, (t) => opensOrRefusesCleanly(t, ring)),
      { numRuns: runs, seed: seedValue },
    ),
  )
  failures += report(
    'token parser, edited tokens',
    await fc.check(
      fc.asyncProperty(mutatedToken(ring), async (t) => opensOrRefusesCleanly(await t, ring)),
      {
        numRuns: Math.ceil(runs / 4),
        seed: seedValue,
      },
    ),
  )
  failures += report(
    'search route',
    await fc.check(
      fc.asyncProperty(hostileQuery, async (q) => {
        const res = await app.request(`/v2/fhir/Patient?${q}`)
        await res.arrayBuffer()
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
        if (res.status >= 500) fiveHundreds++
        return ACCEPTABLE_STATUSES.has(res.status)
      }),
      { numRuns: Math.ceil(runs / 4), seed: seedValue },
    ),
  )
  process.stdout.write(
    `statuses ${JSON.stringify(Object.fromEntries(statuses))}; 5xx ${fiveHundreds}; ${((Date.now() - started) / 1000).toFixed(1)} s; seed ${seedValue}\n`,
  )
  await sql.end()
  await db.close()
  if (failures || fiveHundreds) process.exitCode = 1
}

// The key pair made for the run is removed however the run ends.
run(() => main().finally(removeTempDirs), USAGE)
