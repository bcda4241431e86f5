/**
 * `npm run keys:model -- --runs N [--steps M] [--seed S]`: the custody model (the same check as
 * test/keys/custody-model.test.ts) on a key directory of keys in clear, for N random sequences of
 * up to M steps. Prints the count of sequences and steps checked; exit 1 with the shrunk failing
 * sequence when an invariant breaks.
 */
import { rm } from 'node:fs/promises'
import { dirKeyStore } from '../src/keys/stores/dir-store.js'
import { checkCustodyModel, tamperManifest } from '../test/support/custody-model.js'
import { tempDir } from '../test/support/keys.js'
import { parse, run, UsageError } from './cli.js'

const USAGE = 'usage: npm run keys:model -- --runs N [--steps M] [--seed S]'

async function main(): Promise<void> {
  const { values } = parse(process.argv.slice(2), {
    runs: { type: 'string' },
    steps: { type: 'string' },
    seed: { type: 'string' },
  })
  if (values.help) return void process.stdout.write(USAGE + '\n')
  const number = (text: string | undefined, fallback: number, name: string) => {
    if (text === undefined) return fallback
    if (!/^\d{1,7}$/.test(text) || Number(text) < 1)
      throw new UsageError(`--${name} must be a positive integer`)
    return Number(text)
  }
  const runs = number(values.runs, 100, 'runs')
  const steps = number(values.steps, 10, 'steps')
  const seed = values.seed === undefined ? undefined : number(values.seed, 0, 'seed')
  const started = Date.now()
  const counts = await checkCustodyModel(
    async () => {
      const dir = await tempDir('sealed-model-')
      return {
        store: dirKeyStore(dir),
        tamper: (kid) => tamperManifest(dir, kid),
        close: () => rm(dir, { recursive: true, force: true }),
      }
    },
    runs,
    steps,
    seed,
  )
  process.stdout.write(
    `custody model: ${counts.sequences} sequences, ${counts.steps} steps checked (${counts.revocationsWithNext ?? 0} revocations of a curve with a next key) in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  )
}

run(main, USAGE)
