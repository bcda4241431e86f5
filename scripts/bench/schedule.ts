/**
 * The order the end-to-end bench runs its rows in. Every target is warmed up once before the
 * first measured row, so the first baseline is not taken on a cold gateway (JIT, pool, caches,
 * each key's first agreement); then each row gets a short warm-up of its own right before it is
 * measured, and the baseline (the first target) is measured again at the end.
 */
export interface Step<T> {
  target: T
  /** Seconds to run it. */
  seconds: number
  /** Its numbers go in the table (else a warm-up). */
  measured: boolean
}

export function schedule<T extends { name: string }>(
  list: readonly T[],
  seconds: number,
  warmupSeconds = 1,
): Step<T>[] {
  if (list.length === 0) return []
  const again = { ...list[0]!, name: `${list[0]!.name}, again at the end` }
  const warmAll = list.map((target) => ({ target, seconds: warmupSeconds, measured: false }))
  const rows = [...list, again].flatMap((target) => [
    { target, seconds: warmupSeconds, measured: false },
    { target, seconds, measured: true },
  ])
  return [...warmAll, ...rows]
}
