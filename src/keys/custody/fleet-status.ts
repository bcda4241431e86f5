/**
 * `npm run keys -- status --gateways URL[,URL...]`: the ring version each instance serves, read
 * from its /health/ready (the `Key-Ring-Version` header, there also when the instance is not
 * ready), compared with the store's.
 */

export interface InstanceStatus {
  url: string
  /** The ring version it serves; undefined when it could not be asked or did not say. */
  version: number | undefined
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
  /**
   * Every instance is ready, publishes a key of every curve the ring publishes, answered with
   * the same version, equal to the store's when that is known, and has a clock within the bound.
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
    const header = res.headers.get('key-ring-version')
    const version = header !== null && /^\d+$/.test(header) ? Number(header) : undefined
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
      ready: res.status,
      missingCurves,
      ...(Number.isFinite(skew) ? { clockSkewSeconds: skew } : {}),
    }
  } catch (error) {
    const e = error as { name?: string; cause?: { code?: string } }
    const why = e.cause?.code ?? (e.name === 'TimeoutError' ? 'timeout' : 'unreachable')
    return { url: base, version: undefined, ready: why, missingCurves: [...curves] }
  }
}

/** Whether an instance's clock is beyond `maxSkewSeconds` of the database's. */
export const clockOff = (i: InstanceStatus, maxSkewSeconds: number): boolean =>
  i.clockSkewSeconds !== undefined && Math.abs(i.clockSkewSeconds) > maxSkewSeconds

/**
 * The fleet against the store: `curves`, the curves the ring publishes now; `maxSkewSeconds`,
 * KEYS_MAX_CLOCK_SKEW.
 */
export async function fleetStatus(
  urls: readonly string[],
  storeVersion: number | undefined,
  curves: readonly string[] = [],
  maxSkewSeconds = Infinity,
): Promise<FleetStatus> {
  const instances = await Promise.all(urls.map((u) => instanceStatus(u, curves)))
  const versions = new Set(instances.map((i) => i.version))
  const [only] = versions
  const converged =
    instances.length > 0 &&
    versions.size === 1 &&
    only !== undefined &&
    (storeVersion === undefined || only === storeVersion) &&
    instances.every(
      (i) => i.ready === 200 && i.missingCurves.length === 0 && !clockOff(i, maxSkewSeconds),
    )
  return { storeVersion, instances, converged }
}
