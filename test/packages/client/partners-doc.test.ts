/**
 * docs/PARTNERS.md shows only code that a test runs: every fenced block is preceded by
 * `<!-- file: PATH -->`, is that file exactly, and the file is run by the test named here.
 */
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = new URL('../../../', import.meta.url)
const read = (path: string) => readFile(fileURLToPath(new URL(path, ROOT)), 'utf8')

/** Each file the guide shows, the test that runs it, and what in that test runs it. */
const RUN_BY: Record<string, { test: string; runs: string }> = {
  'clients/python/examples/thumbprints.py': {
    test: 'test/system/clients/python.test.ts',
    runs: 'examples/thumbprints.py',
  },
  'clients/python/examples/search.py': {
    test: 'test/system/clients/python.test.ts',
    runs: 'examples/search.py',
  },
  'packages/client/examples/search.mjs': {
    test: 'test/system/packages/client-packed.test.ts',
    runs: 'examples/search.mjs',
  },
  'clients/java/examples/SearchExample.java': {
    test: 'test/system/clients/java.test.ts',
    runs: "'SearchExample'",
  },
  'clients/go/examples/search/main.go': {
    test: 'test/system/clients/go.test.ts',
    runs: "'search-example'",
  },
  'test/interop/jwcrypto_encrypt.py': {
    test: 'test/system/interop/jwe-interop.test.ts',
    runs: 'jwcrypto_encrypt.py',
  },
  'test/interop/hpke_encrypt.py': {
    test: 'test/system/interop/hpke-interop.test.ts',
    runs: 'hpke_encrypt.py',
  },
}

interface Block {
  file: string | undefined
  lang: string
  body: string
}

function fencedBlocks(markdown: string): Block[] {
  const blocks: Block[] = []
  const pattern = /(?:<!-- file: (\S+) -->\n\n)?```(\S*)\n([\s\S]*?)```/g
  for (const m of markdown.matchAll(pattern)) {
    blocks.push({ file: m[1], lang: m[2]!, body: m[3]! })
  }
  return blocks
}

describe('docs/PARTNERS.md', async () => {
  const doc = await read('docs/PARTNERS.md')
  const blocks = fencedBlocks(doc)

  it('has code blocks, each one naming its file', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(Object.keys(RUN_BY).length)
    expect(blocks.filter((b) => !b.file).map((b) => b.body.slice(0, 60))).toEqual([])
  })

  it.each(blocks.filter((b) => b.file).map((b) => [b.file!, b] as const))(
    'shows %s exactly, and a test runs it',
    async (file, block) => {
      expect(block.body).toBe(await read(file))
      const runner = RUN_BY[file]
      expect(runner, `no test is known to run ${file}`).toBeDefined()
      expect(await read(runner!.test)).toContain(runner!.runs)
    },
  )

  it('points at every partner package, and states the Node version the library needs', () => {
    for (const dir of ['packages/client', 'clients/python', 'clients/java', 'clients/go']) {
      expect(doc).toContain(`(../${dir}/README.md)`)
    }
    expect(doc).toContain('Node 20.19 and later')
    expect(doc).not.toMatch(/Node 18/)
  })
})
