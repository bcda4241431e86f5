import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { VARIABLES } from '../../src/config/index.js'
import { END, START, withConfigTable } from '../../scripts/docs/config-table.js'

const README = fileURLToPath(new URL('../../README.md', import.meta.url))

function tableOf(readme: string): string {
  return readme.slice(readme.indexOf(START), readme.indexOf(END))
}

describe("the README's configuration table", () => {
  it('is the one the variable table makes (npm run docs:config writes it)', async () => {
    const readme = await readFile(README, 'utf8')
    expect(tableOf(await withConfigTable(readme, README))).toBe(tableOf(readme))
  })

  it('names every variable the code reads, with the file form of each secret', async () => {
    const table = tableOf(await readFile(README, 'utf8'))
    for (const [name, row] of Object.entries(VARIABLES)) {
      expect(table).toContain(`| \`${name}\``)
      if (row.secret) expect(table).toContain(`\`${name}_FILE\``)
    }
  })

  it('is told apart from a table that lost a row or a changed default', async () => {
    const readme = await readFile(README, 'utf8')
    const withoutWatch = readme.replace(/^\| `KEYS_WATCH`.*\n/m, '')
    expect(withoutWatch).not.toBe(readme)
    expect(await withConfigTable(withoutWatch, README)).toBe(readme)
    const changed = readme.replace(/(\| `PORT` .*)`8080`/, '$1`8081`')
    expect(changed).not.toBe(readme)
    expect(tableOf(await withConfigTable(changed, README))).toBe(tableOf(readme))
  })
})
