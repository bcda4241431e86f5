/**
 * The scanner on arbitrary input (fast-check): any bytes, in any chunking, are read to their end
 * without an exception, every line counted; an identifier between any separators is found on its
 * line, whatever surrounds it, and the report never repeats it.
 */
import { Readable } from 'node:stream'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { syntheticMbi } from '../../src/identifiers/synthetic.js'
import { buildReport, emptyTotals, scanSource } from '../../src/logscan/index.js'

async function scanChunks(chunks: Uint8Array[]) {
  const totals = emptyTotals()
  const stream = Readable.from(chunks.map((c) => Buffer.from(c)))
  await scanSource(totals, { name: 'p.log', stream })
  return buildReport(totals, { source: 'none', keys: [] })
}

describe('the scanner on arbitrary input', () => {
  it('reads any bytes in any chunking to the end, counting every line', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }),
        async (chunks) => {
          const all = Buffer.concat(chunks.map((c) => Buffer.from(c)))
          const report = await scanChunks(chunks)
          const newlines = all.filter((b) => b === 0x0a).length
          const expected = all.length === 0 ? 0 : newlines + (all.at(-1) === 0x0a ? 0 : 1)
          expect(report.lines).toBe(expected)
          expect(report.problems).toEqual([])
        },
      ),
      { numRuns: 300 },
    )
  })

  it('finds an MBI between any separators, on its line, masked', async () => {
    const separator = fc.constantFrom(' ', '"', '|', '=', '/', '%7C', '\t', ',', '[', '?')
    const noise = fc.string({ unit: fc.constantFrom(...'abc xyz{}":,'.split('')), maxLength: 40 })
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 100_000 }),
        noise,
        separator,
        separator,
        noise,
        fc.integer({ min: 0, max: 5 }),
        async (index, before, open, close, after, lineBefore) => {
          const mbi = syntheticMbi(index)
          const text = `${'x\n'.repeat(lineBefore)}${before}${open}${mbi}${close}${after}\n`
          const report = await scanChunks([Buffer.from(text)])
          expect(report.plaintext.listed).toContainEqual(
            expect.objectContaining({ line: lineBefore + 1, kind: 'MBI' }),
          )
          expect(JSON.stringify(report)).not.toContain(mbi)
        },
      ),
      { numRuns: 300 },
    )
  })
})
