/**
 * postgres.js keeps its pool's connections in queues (open, busy, full) built on one small
 * `Queue` (src/queue.js of the package). As published (3.4.9), `shift` leaves a hole at the front
 * of the backing array, the array is reset only when a `shift` empties it, and `remove` searches
 * from the start, holes included: under sustained load the busy queue never empties, so every
 * connection handed back scans all the holes of the gateway's life. The gateway's CPU per search
 * grew by about 40% in the first minute of load and never came back (BENCHMARKS.md).
 * patches/postgres+3.4.9.patch, applied by `npm ci` (postinstall: patch-package), searches from
 * the first live element and drops the holes once they are half the array. These tests load the
 * installed file itself.
 */
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

interface Queue<T> {
  readonly length: number
  push(x: T): T
  shift(): T | undefined
  remove(x: T): T | null
}
type QueueFactory = <T>(initial?: T[]) => Queue<T>

// The package's root, from its CommonJS entry (cjs/src/index.js); the gateway imports src/.
const packageRoot = join(dirname(createRequire(import.meta.url).resolve('postgres')), '..', '..')
/** The package's three builds of the queue: ES modules (what the gateway runs), CommonJS, Workers. */
const BUILDS = ['src', 'cjs/src', 'cf/src'].map((dir) => join(packageRoot, dir, 'queue.js'))
const loadQueue = async (): Promise<QueueFactory> =>
  ((await import(pathToFileURL(BUILDS[0]!).href)) as { default: QueueFactory }).default

/** An array that counts the elements its `indexOf` looks at (slice keeps the class). */
class CountingArray<T> extends Array<T> {
  static scanned = 0
  override indexOf(x: T, from = 0): number {
    const found = super.indexOf(x, from)
    CountingArray.scanned += (found === -1 ? this.length : found + 1) - Math.max(0, from)
    return found
  }
}

describe("postgres.js's pool queue (as patched)", () => {
  it('keeps FIFO order, length and removal of any element, as an array does', async () => {
    const Queue = await loadQueue()
    const command = fc.oneof(
      fc.record({ op: fc.constant('push' as const) }),
      fc.record({ op: fc.constant('shift' as const) }),
      fc.record({ op: fc.constant('remove' as const), at: fc.nat() }),
    )
    fc.assert(
      fc.property(fc.array(command, { maxLength: 3000 }), (commands) => {
        const queue = Queue<{ n: number }>()
        const model: { n: number }[] = []
        let next = 0
        for (const c of commands) {
          if (c.op === 'push') {
            const x = { n: next++ }
            queue.push(x)
            model.push(x)
          } else if (c.op === 'shift') {
            // The pool shifts only a queue that is not empty.
            if (model.length) expect(queue.shift()).toBe(model.shift())
          } else {
            const x = model.length ? model[c.at % model.length]! : { n: -1 }
            const expected = model.includes(x) ? x : null
            if (expected) model.splice(model.indexOf(x), 1)
            expect(queue.remove(x)).toBe(expected)
            expect(queue.remove(x)).toBeNull()
          }
          expect(queue.length).toBe(model.length)
        }
      }),
      { numRuns: 200 },
    )
  })

  it('looks only at live elements: a busy queue under sustained load costs the same at the end', async () => {
    const Queue = await loadQueue()
    // Ten connections cycling through "busy" for 20,000 queries, never all idle at once: the
    // pattern of a saturated pool (shift the next connection, hand it back, remove a finished one).
    const connections = Array.from({ length: 10 }, (_, n) => ({ n }))
    const busy = Queue(CountingArray.from(connections))
    CountingArray.scanned = 0
    let removes = 0
    for (let i = 0; i < 20_000; i++) {
      const c = busy.shift()!
      busy.push(c)
      const finished = connections[(i * 7) % 10]!
      if (busy.remove(finished)) {
        removes++
        busy.push(finished)
      }
    }
    expect(busy.length).toBe(10)
    expect(removes).toBe(20_000)
    // At most the ten live elements per search; as published, the holes made it thousands each.
    expect(CountingArray.scanned / removes).toBeLessThanOrEqual(10)
  })

  it('is, in each of the three builds, the installed file the patch describes', async () => {
    const patch = await readFile(
      join(import.meta.dirname, '..', '..', 'patches', 'postgres+3.4.9.patch'),
      'utf8',
    )
    const added = patch
      .split('\n')
      .filter((l) => l.startsWith('+') && !l.startsWith('+++'))
      .map((l) => l.slice(1))
    expect(added.length).toBeGreaterThan(0)
    for (const file of BUILDS) {
      const installed = await readFile(file, 'utf8')
      for (const line of added) expect(installed, file).toContain(line)
    }
  })
})
