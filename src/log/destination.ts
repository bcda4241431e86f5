import pino, { type DestinationStream } from 'pino'

/** Characters gathered before they are written at once, whatever the timer says. */
export const BATCH_SIZE = 8192

/** A log destination that can be told to hand what it holds to the system now. */
export interface LogDestination extends DestinationStream {
  /** Writes what is gathered; `done` runs once the system has all of it. */
  flush(done?: () => void): void
}

export interface DestinationOptions {
  /**
   * Longest a line may wait to be written with others, in milliseconds (LOG_FLUSH_MS); 0 hands
   * each line to the writer as it comes (one write per line while the writer keeps up).
   */
  flushMs?: number
  /** For a file: its mode when created. */
  mode?: number
}

/** What batching destinations hold when the process exits: written synchronously then. */
const holding = new Set<() => void>()

/**
 * Where log lines go: `stdout`, `stderr` or a file (appended, its directory made). With `flushMs`,
 * lines are gathered and handed on together once `BATCH_SIZE` characters wait or `flushMs` after
 * the first of them, so a busy gateway makes one write for many requests instead of one per line
 * (each write is a trip through libuv's pool and back to the event loop). Everything is written
 * on a clean stop (`flush`) and on process exit, an uncaught exception included; a process killed
 * outright (SIGKILL, the OOM killer) loses at most the last `flushMs` of lines.
 */
export function logDestination(target: string, options: DestinationOptions = {}): LogDestination {
  const { flushMs = 0, mode } = options
  const sonic =
    target === 'stdout' || target === 'stderr'
      ? pino.destination({ fd: target === 'stdout' ? 1 : 2, sync: false })
      : pino.destination({
          dest: target,
          append: true,
          mkdir: true,
          sync: false,
          ...(mode === undefined ? {} : { mode }),
        })
  // The writer (sonic-boom, asynchronous) keeps writing until it holds nothing, then says `drain`.
  // A file still opening writes nothing until it is open: then the empty write.
  let open = target === 'stdout' || target === 'stderr'
  sonic.once('ready', () => (open = true))
  const drained = (done: () => void) => {
    if (!open) return void sonic.once('ready', () => drained(done))
    sonic.once('drain', done)
    sonic.write('') // an empty write still ends in `drain`, whether a write is in flight or not
  }
  if (flushMs <= 0) {
    return { write: (line: string) => sonic.write(line), flush: (done) => done && drained(done) }
  }
  let pending: string[] = []
  let size = 0
  let timer: NodeJS.Timeout | undefined
  const handOn = () => {
    if (timer) clearTimeout(timer)
    timer = undefined
    if (size === 0) return
    const batch = pending.join('')
    pending = []
    size = 0
    sonic.write(batch)
  }
  holding.add(() => {
    handOn()
    try {
      sonic.flushSync()
    } catch {
      // a file that never opened, or a stream already ended: nothing can be written to it now
    }
  })
  if (holding.size === 1) process.once('exit', () => holding.forEach((write) => write()))
  return {
    write(line: string) {
      pending.push(line)
      size += line.length
      if (size >= BATCH_SIZE) return handOn()
      // One timer per batch, armed by its first line: an idle gateway wakes for nothing.
      if (!timer) {
        timer = setTimeout(handOn, flushMs)
        timer.unref()
      }
    },
    flush(done) {
      handOn()
      if (done) drained(done)
    },
  }
}

/** Resolves once `destination` has handed everything it holds to the system. */
export function flushed(destination: DestinationStream): Promise<void> {
  const d = destination as Partial<LogDestination>
  if (typeof d.flush !== 'function') return Promise.resolve()
  return new Promise((resolve) => d.flush!(() => resolve()))
}
