/**
 * CPU time of a server's main thread, from `/proc/<pid>/task/<pid>/schedstat` (its first field:
 * nanoseconds on a CPU). Read before and after a measured run and divided by the requests served,
 * it gives the CPU a request costs the event loop: unlike requests/s, it barely moves when other
 * work on the machine takes the cores (time spent waiting for a CPU is not counted).
 */
import { readdir, readFile } from 'node:fs/promises'

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

/** Clock ticks the machine's CPUs were busy, and in all, from the first line of /proc/stat. */
export interface MachineTicks {
  busy: number
  total: number
}

/**
 * The `cpu` line of /proc/stat: user, nice, system, idle, iowait, irq, softirq, steal (guest time
 * is already counted in user). Busy is everything but idle and iowait.
 */
export function parseProcStat(text: string): MachineTicks | undefined {
  const line = text.split('\n').find((l) => l.startsWith('cpu '))
  const fields = line?.trim().split(/\s+/).slice(1, 9).map(Number) ?? []
  if (fields.length < 8 || fields.some((f) => !Number.isFinite(f))) return undefined
  const total = fields.reduce((sum, f) => sum + f, 0)
  return { busy: total - fields[3]! - fields[4]!, total }
}

export async function machineTicks(): Promise<MachineTicks | undefined> {
  try {
    return parseProcStat(await readFile('/proc/stat', 'utf8'))
  } catch {
    return undefined
  }
}

/** The share of all the machine's CPU time that was busy between two readings (0 to 1). */
export function machineBusy(
  before: MachineTicks | undefined,
  after: MachineTicks | undefined,
): number | undefined {
  if (!before || !after || after.total <= before.total) return undefined
  return (after.busy - before.busy) / (after.total - before.total)
}

/**
 * How long each PostgreSQL server process on this machine (`comm` postgres: the postmaster, its
 * backends and helpers) has run, in nanoseconds by pid, from /proc/<pid>/schedstat; undefined
 * where there is none (a server on another machine).
 */
export async function postgresCpu(): Promise<Map<string, number> | undefined> {
  let pids: string[]
  try {
    pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name))
  } catch {
    return undefined
  }
  const times = new Map<string, number>()
  for (const pid of pids) {
    try {
      if ((await readFile(`/proc/${pid}/comm`, 'utf8')).trim() !== 'postgres') continue
      const ns = Number((await readFile(`/proc/${pid}/schedstat`, 'utf8')).split(' ')[0])
      if (Number.isFinite(ns)) times.set(pid, ns)
    } catch {
      // The process ended while it was read: it is not in this reading.
    }
  }
  return times.size ? times : undefined
}

/**
 * PostgreSQL's CPU between two readings, in microseconds per request: each process's growth, a
 * process started in between counted whole, one that ended in between not at all (the bench's
 * connections stay open for the whole run, so its backends are in both readings).
 */
export function postgresUsPerRequest(
  before: Map<string, number> | undefined,
  after: Map<string, number> | undefined,
  requests: number,
): number | undefined {
  if (!before || !after || requests <= 0) return undefined
  let ns = 0
  for (const [pid, time] of after) {
    const earlier = before.get(pid) ?? 0
    // Less than before: the pid was taken again by a process started in between.
    ns += time >= earlier ? time - earlier : time
  }
  return ns / 1000 / requests
}
