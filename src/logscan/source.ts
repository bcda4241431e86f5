import { createReadStream } from 'node:fs'
import { Readable } from 'node:stream'
import { createGunzip } from 'node:zlib'

/** gzip's magic number (RFC 1952 §2.3.1): such input is decompressed as it is read. */
const GZIP_MAGIC = [0x1f, 0x8b]

export interface Source {
  /** The name a report gives it: the path, or `-` for standard input. */
  name: string
  /** The bytes as stored (compressed when gzip), for progress. */
  stream: Readable
}

export function fileSource(path: string): Source {
  if (path === '-') return { name: '-', stream: process.stdin }
  return { name: path, stream: createReadStream(path, { highWaterMark: 1 << 20 }) }
}

/**
 * The bytes of a source, decompressed when they start with gzip's magic number; `onRead` gets
 * the number of stored bytes as they are read.
 */
export async function* plainChunks(
  stream: Readable,
  onRead: (bytes: number) => void = () => {},
): AsyncGenerator<Buffer> {
  const input = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>
  const first = await input.next()
  if (first.done) return
  const head = first.value
  onRead(head.length)
  const rest = (async function* () {
    yield head
    for (;;) {
      const next = await input.next()
      if (next.done) return
      onRead(next.value.length)
      yield next.value
    }
  })()
  if (head[0] !== GZIP_MAGIC[0] || head[1] !== GZIP_MAGIC[1]) {
    yield* rest
    return
  }
  const gunzip = createGunzip({ chunkSize: 1 << 20 })
  const feeder = Readable.from(rest)
  feeder.on('error', (error) => gunzip.destroy(error))
  feeder.pipe(gunzip)
  for await (const chunk of gunzip as AsyncIterable<Buffer>) yield chunk
}
