/**
 * Splits a byte stream into lines, in batches, without holding more than one batch and one long
 * line in memory. Lines are decoded as latin1: every byte is one character, so invalid UTF-8 or
 * binary garbage is read as it is, never refused, and the ASCII patterns of tokens and
 * identifiers are found wherever they are.
 */

/** A line longer than this is handed over in pieces of this size (see `Line.piece`). */
export const MAX_LINE_BYTES = 1 << 20

export interface Batch {
  /** The number (1-based) of the first line in `lines`. */
  firstLine: number
  lines: string[]
  /**
   * True when `lines` is one piece of a line longer than MAX_LINE_BYTES, more of which follows
   * (the line's last piece comes first in the next batch, under the same number).
   */
  pieceOfLongLine: boolean
}

export async function* lineBatches(chunks: AsyncIterable<Buffer>): AsyncGenerator<Batch> {
  let carry: Buffer = Buffer.alloc(0)
  let lineNo = 1
  for await (const chunk of chunks) {
    const data = carry.length ? Buffer.concat([carry, chunk]) : chunk
    const last = data.lastIndexOf(0x0a)
    if (last === -1) {
      carry = data
      if (carry.length >= MAX_LINE_BYTES) {
        // The start of a very long line: scanned now, so memory stays bounded.
        yield { firstLine: lineNo, lines: [carry.toString('latin1')], pieceOfLongLine: true }
        carry = Buffer.alloc(0)
      }
      continue
    }
    const lines = data.toString('latin1', 0, last).split('\n')
    const firstLine = lineNo
    lineNo += lines.length
    yield { firstLine, lines, pieceOfLongLine: false }
    carry = data.subarray(last + 1)
  }
  if (carry.length) {
    yield { firstLine: lineNo, lines: [carry.toString('latin1')], pieceOfLongLine: false }
  }
}
