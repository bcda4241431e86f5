import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as prettier from 'prettier'
import { describe, expect, it } from 'vitest'
import { BEGIN, END, replaceGenerated, writeGenerated } from '../../scripts/bench/report.js'
import { tempDir } from '../support/temp.js'

/** What the bench generates: a heading and a table as it comes, unaligned. */
const GENERATED = `Measured 2030-01-01 with \`npm run bench -- --smoke\`

### 2,000 rows, one process, 4 connections, 1 s per row

| | requests/s | p50 ms | p99 ms | errors | vs (a) |
| --- | ---: | ---: | ---: | ---: | ---: |
| (a) plaintext POST search (baseline) | 1234 | 3 | 9 | 0 | |
| (b) GET JWE ECDH-ES P-256 | 999 | 4 | 11 | 0 | 81% |
`

describe('the bench report in BENCHMARKS.md', () => {
  it('replaces only the text between the markers, and the file passes prettier', async () => {
    const original = await readFile('BENCHMARKS.md', 'utf8')
    const file = join(await tempDir(), 'BENCHMARKS.md')
    await writeFile(file, original)
    await writeGenerated(file, GENERATED)
    const written = await readFile(file, 'utf8')

    const outside = (text: string) => [
      text.slice(0, text.indexOf(BEGIN)),
      text.slice(text.indexOf(END)),
    ]
    expect(outside(written)).toEqual(outside(original))
    expect(written).toContain('Measured 2030-01-01')
    expect(written).toMatch(/\| \(b\) GET JWE ECDH-ES P-256 +\| +999 \|/)
    expect(written).not.toContain('Measured 2026-11-23')
    const options = (await prettier.resolveConfig(file)) ?? {}
    expect(await prettier.check(written, { ...options, filepath: file })).toBe(true)

    // A second run replaces the first one's results, not adds to them.
    await writeGenerated(file, GENERATED.replace('2030-01-01', '2030-01-02'))
    const again = await readFile(file, 'utf8')
    expect(again.match(/Measured 2030/g)).toHaveLength(1)
    expect(outside(again)).toEqual(outside(original))
  })

  it('refuses a file without the markers rather than overwrite it', () => {
    expect(() => replaceGenerated('# Benchmarks\n\nhand-written\n', GENERATED, 'B.md')).toThrow(
      /B\.md has no .* markers/,
    )
  })
})
