import { readdir, readFile } from 'node:fs/promises'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ESLint } from 'eslint'
import { describe, expect, it } from 'vitest'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const HTTP = join(ROOT, 'src/http')
const DB = join(ROOT, 'src/db')

async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true })
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name))
}

/** Every module specifier a file imports or re-exports, static or dynamic. */
function specifiers(text: string): string[] {
  const found = [...text.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)]
  return found.map((m) => m[1]!)
}

describe('the HTTP layer reaches the database only through src/search', () => {
  it('no file under src/http imports a module under src/db', async () => {
    const files = await sources(HTTP)
    expect(files.length).toBeGreaterThan(10)
    const offending: string[] = []
    for (const file of files) {
      for (const spec of specifiers(await readFile(file, 'utf8'))) {
        if (!spec.startsWith('.')) continue
        const target = resolve(dirname(file), spec)
        if (target === DB || target.startsWith(`${DB}/`)) {
          offending.push(`${relative(ROOT, file)} -> ${spec}`)
        }
      }
    }
    expect(offending).toEqual([])
  })

  it('the lint rule refuses such an import in src/http', async () => {
    const eslint = new ESLint({ cwd: ROOT })
    const [result] = await eslint.lintText(
      "import type { Sql } from '../db/sql.js'\nexport type Pool = Sql\n",
      { filePath: join(HTTP, 'layering-probe.ts') },
    )
    const rules = result!.messages.map((m) => m.ruleId)
    expect(rules).toContain('no-restricted-imports')
  })

  it('the key boundary still holds in src/http alongside it', async () => {
    const eslint = new ESLint({ cwd: ROOT })
    const [result] = await eslint.lintText(
      "import { createPrivateKey } from 'node:crypto'\nexport const make = createPrivateKey\n",
      { filePath: join(HTTP, 'layering-probe.ts') },
    )
    expect(result!.messages.map((m) => m.message).join('\n')).toMatch(
      /Private keys stay in src\/keys/,
    )
  })

  it('the search layer does not depend on the HTTP layer', async () => {
    for (const file of await sources(join(ROOT, 'src/search'))) {
      const text = await readFile(file, 'utf8')
      expect(specifiers(text).filter((s) => s.includes('/http/') || s.includes('hono'))).toEqual([])
    }
  })
})
