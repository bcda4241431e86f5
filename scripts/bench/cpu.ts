/**
 * CPU time of a server's main thread, from `/proc/<pid>/task/<pid>/schedstat` (its first field:
 * nanoseconds on a CPU). Read before and after a measured run and divided by the requests served,
 * it gives the CPU a request costs the event loop: unlike requests/s, it barely moves when other
 * work on the machine takes the cores (time spent waiting for a CPU is not counted).
 */
import { readFile } from 'node:fs/promises'

/** Nanoseconds the main thread of `pid` has run, or undefined where /proc does not have it. */
export async function mainThreadCpuNs(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined
  try {
    const text = await readFile(`/proc/${pid}/task/${pid}/schedstat`, 'utf8')
    const ns = Number(text.split(' ')[0])
    return Number.isFinite(ns) ? ns : undefined
  } catch {
    return undefined
  }
}

/** Microseconds of main-thread CPU per request between two readings; undefined without both. */
export function cpuPerRequestUs(
  before: number | undefined,
  after: number | undefined,
  requests: number,
): number | undefined {
  if (before === undefined || after === undefined || requests <= 0) return undefined
  return (after - before) / 1000 / requests
}
