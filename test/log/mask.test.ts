import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { HICN_MASK, MASK, maskMbis } from '../../src/log/mask.js'
import { syntheticMbi } from '../../src/identifiers/synthetic.js'

/** The mask as it was before the bare-shape check: both edged patterns over every line. */
function maskEveryPosition(text: string): string {
  const D = '[0-9]'
  const A = '[A-Za-z]'
  const AN = '[A-Za-z0-9]'
  const SEP = '[-\\s]?'
  const before = '(?:(?<![A-Za-z0-9])|(?<=%[0-9A-Fa-f]{2}))'
  const after = '(?![A-Za-z0-9])'
  const mbi = `${D}${A}${AN}${D}${SEP}${A}${AN}${D}${SEP}${A}${A}${D}${D}`
  const hicn = `${D}{3}${SEP}${D}{2}${SEP}${D}{4}${A}`
  return text
    .replace(new RegExp(`${before}${mbi}${after}`, 'g'), MASK)
    .replace(new RegExp(`${before}${hicn}${AN}?${after}`, 'g'), HICN_MASK)
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const token = fc
  .array(fc.constantFrom(...BASE64URL), { minLength: 200, maxLength: 1600 })
  .map((c) => c.join(''))
const piece = fc.oneof(
  token,
  fc.string({ maxLength: 40 }),
  fc.nat(10_000).map((n) => syntheticMbi(n)),
  fc.constantFrom('123456789A', '123-45-6789c1', '%31S00A00AA00', ' ', '|', '%7C', '-', '_'),
)

describe('the MBI mask', () => {
  it('masks exactly what both edged patterns masked at every position, on any line', () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 8 }), (pieces) => {
        const line = `{"query":"?identifier=${pieces.join('')}"}`
        expect(maskMbis(line)).toBe(maskEveryPosition(line))
      }),
      { numRuns: 500 },
    )
  })

  it('leaves a line with a long token and no identifier as it came, and masks one beside it', () => {
    const jwe = 'eyJhbGciOiJFQ0RILUVTIn0..' + 'QmFzZTY0dXJs'.repeat(130)
    const line = `{"query":"?identifier=https://x/mbi-jwe|${jwe}"}`
    expect(maskMbis(line)).toBe(line)
    const withMbi = line.replace('mbi-jwe|', `mbi-jwe|${syntheticMbi(7)} `)
    expect(maskMbis(withMbi)).toContain(MASK)
    expect(maskMbis(withMbi)).not.toContain(syntheticMbi(7))
  })
})
