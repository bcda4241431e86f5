import type { Finding } from './finding.js'

/**
 * `npm run keys -- status --gateways URL[,URL...]`: the ring version each instance serves, read
 * from its /health/ready (the `Key-Ring-Version` header, there also when the instance is not
 * ready), compared with the store's; and the ring generation it has applied
 * (`Key-Ring-Generation`), which names a rollback of the store no instance will take.
 */

export interface InstanceStatus {
  url: string
  /** The ring version it serves; undefined when it could not be asked or did not say. */
  version: number | undefined
  /** The highest ring generation it has applied; undefined when it did not say. */
  generation: number | undefined
  /** Its readiness status code, or the reason it could not be asked. */
  ready: number | string
  /** Curves of the ring with no key in its JWKS (a partner of that curve has nothing to use). */
  missingCurves: string[]
  /** Its clock minus the database's, in seconds (its `Clock-Skew` header; KEY_STORE=postgres). */
  clockSkewSeconds?: number
}

export interface FleetStatus {
  storeVersion: number | undefined
  instances: InstanceStatus[]
  /** Instances that applied a later generation than the store's: the store was rolled back. */
  rollbacks: Finding[]
  /**
   * Every instance is ready, publishes a key of every curve the ring publishes, answered with
   * the same version, equal to the store's when that is known, has a clock within the bound; and
   * none saw a later generation.
   */
  converged: boolean
}

export async function instanceStatus(
  url: string,
  curves: readonly string[] = [],
  timeoutMs = 3000,
): Promise<InstanceStatus> {
  const base = url.replace(/\/+$/, '')
  try {
    const res = await fetch(`${base}/health/ready`, { signal: AbortSignal.timeout(timeoutMs) })
    await res.arrayBuffer()
    const version = numberHeader(res.headers.get('key-ring-version'))
    const generation = numberHeader(res.headers.get('key-ring-generation'))
    const jwks = await fetch(`${base}/.well-known/jwks.json`, {
      signal: AbortSignal.timeout(timeoutMs),
    })
    const body = (jwks.ok ? await jwks.json() : { keys: [] }) as { keys?: { crv?: string }[] }
    const published = new Set((body.keys ?? []).map((k) => k.crv))
    const missingCurves = curves.filter((c) => !published.has(c))
    const skew = Number(res.headers.get('clock-skew') ?? NaN)
    return {
      url: base,
      version,
      generation,
      ready: res.status,
      missingCurves,
      ...(Number.isFinite(skew) ? { clockSkewSeconds: skew } : {}),
    }
  } catch (error) {
    const e = error as { name?: string; cause?: { code?: string } }
    const why = e.cause?.code ?? (e.name === 'TimeoutError' ? 'timeout' : 'unreachable')
    return {
      url: base,
      version: undefined,
      generation: undefined,
      ready: why,
      missingCurves: [...curves],
    }
  }
}

/** Whether an instance's clock is beyond `maxSkewSeconds` of the database's. */
export const clockOff = (i: InstanceStatus, maxSkewSeconds: number): boolean =>
  i.clockSkewSeconds !== undefined && Math.abs(i.clockSkewSeconds) > maxSkewSeconds

const numberHeader = (value: string | null) =>
  value !== null && /^\d{1,15}$/.test(value) ? Number(value) : undefined

/**
 * A store whose generation is lower than one an instance has applied was rolled back to an
 * earlier authentic ring: that instance refuses it (ERR_KEYS_RING_ROLLBACK), and this names it.
 */
export function rollbacks(
  storeGeneration: number | undefined,
  instances: readonly InstanceStatus[],
): Finding[] {
  if (storeGeneration === undefined) return []
  return instances
    .filter((i) => i.generation !== undefined && i.generation > storeGeneration)
    .map((i) => ({
      level: 'error',
      message: `the ring's generation ${storeGeneration} is lower than generation ${i.generation} that ${i.url} applied: a rollback`,
    }))
}

export interface FleetStatusOptions {
  /** KEYS_MAX_CLOCK_SKEW: an instance whose clock is further off is not converged. */
  maxSkewSeconds?: number
  /** The generation of the ring the store holds (authentic or not), to name a rollback. */
  storeGeneration?: number | undefined
}

/**
 * The fleet against the store: `curves`, the curves the ring publishes now.
 */
export async function fleetStatus(
  urls: readonly string[],
  storeVersion: number | undefined,
  curves: readonly string[] = [],
  options: FleetStatusOptions = {},
): Promise<FleetStatus> {
  const { maxSkewSeconds = Infinity, storeGeneration } = options
  const instances = await Promise.all(urls.map((u) => instanceStatus(u, curves)))
  const rolledBack = rollbacks(storeGeneration, instances)
  const versions = new Set(instances.map((i) => i.version))
  const [only] = versions
  const converged =
    instances.length > 0 &&
    rolledBack.length === 0 &&
    versions.size === 1 &&
    only !== undefined &&
    (storeVersion === undefined || only === storeVersion) &&
    instances.every(
      (i) => i.ready === 200 && i.missingCurves.length === 0 && !clockOff(i, maxSkewSeconds),
    )
  return { storeVersion, instances, rollbacks: rolledBack, converged }
}
