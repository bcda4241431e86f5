/**
 * Once per `npm test`: builds dist/ when it is missing or stale (the tests that run `npm start`
 * then start at once and never build side by side), and gives the run a temporary directory of
 * its own (TMPDIR, inherited by every test process and every process they start). At the end,
 * anything left in it fails the run with the names of what was left: tests and scripts remove
 * what they create. The directory is removed either way, so no key is left behind.
 */
import { execFileSync } from 'node:child_process'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** tsx's compile cache: not something a test made. */
const CACHES = /^tsx-\d+$/

export default async function setup(): Promise<() => Promise<void>> {
  execFileSync(process.execPath, ['scripts/build.mjs', '--if-needed'], { stdio: 'inherit' })
  const previous = process.env.TMPDIR
  const run = await mkdtemp(join(tmpdir(), 'sealed-search-test-'))
  process.env.TMPDIR = run
  return async function teardown() {
    if (previous === undefined) delete process.env.TMPDIR
    else process.env.TMPDIR = previous
    const left = (await readdir(run)).filter((name) => !CACHES.test(name))
    await rm(run, { recursive: true, force: true })
    if (left.length > 0) {
      // vitest reports an error thrown here but keeps exit code 0: set it, so the run fails.
      process.exitCode = 1
      process.stderr.write(
        `\nFAIL: the tests left ${left.length} entries in the temporary directory: ${left.join(', ')}\n`,
      )
    }
  }
}
