/**
 * bench:scan at a small size: the generated log's tokens and planted identifiers are all found,
 * and nothing else; it prints its rates (the numbers themselves are not asserted).
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { expect, it } from 'vitest'
import { childEnv } from '../../support/process.js'

const exec = promisify(execFile)

it('finds every token and planted identifier of the generated log and nothing else', async () => {
  const { stdout } = await exec(
    process.execPath,
    ['node_modules/tsx/dist/cli.mjs', 'scripts/bench-scan.ts', '--mb', '8'],
    { env: childEnv({}) },
  )
  const rows = stdout.trim().split('\n')
  expect(rows).toHaveLength(2)
  for (const row of rows) {
    expect(row).toMatch(/MB\/s per CPU second; peak RSS \d+ MB; .*all found, no false positive$/)
  }
  const [, tokens, planted] = /^8 MB, \d+ lines, (\d+) tokens, (\d+) planted/.exec(rows[1]!)!
  expect(Number(tokens)).toBeGreaterThan(10_000)
  // Every spelling (plantedSpellings has nine) planted more than once.
  expect(Number(planted)).toBeGreaterThanOrEqual(18)
}, 120_000)
