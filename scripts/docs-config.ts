/**
 * Writes the README's configuration table from the variable table: `npm run docs:config`.
 * With --check it writes nothing and exits 1 when the README is out of date.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { parse, run } from './cli.js'
import { withConfigTable } from './docs/config-table.js'

const USAGE = `usage: npm run docs:config -- [--check]

Writes the configuration table in README.md (between <!-- config:start --> and
<!-- config:end -->) from src/config/variables.ts.

  --check     write nothing; exit 1 when the table is not current
  -h, --help  this text`

async function main(): Promise<void> {
  const { values } = parse(process.argv.slice(2), {
    check: { type: 'boolean' },
    help: { type: 'boolean' },
  })
  if (values.help) return void process.stdout.write(USAGE + '\n')
  const path = fileURLToPath(new URL('../README.md', import.meta.url))
  const readme = await readFile(path, 'utf8')
  const next = await withConfigTable(readme, path)
  if (next === readme)
    return void process.stdout.write('README.md configuration table is current\n')
  if (values.check) {
    process.stderr.write('README.md configuration table is out of date: run npm run docs:config\n')
    process.exit(1)
  }
  await writeFile(path, next)
  process.stdout.write('README.md configuration table written\n')
}

run(main, USAGE)
