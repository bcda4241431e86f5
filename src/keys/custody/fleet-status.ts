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
}

export interface FleetStatus {
  storeVersion: number | undefined
  instances: InstanceStatus[]
  /** Every instance answered with the same version, equal to the store's when that is known. */
  converged: boolean
}

export async function instanceStatus(url: string, timeoutMs = 3000): Promise<InstanceStatus> {
  const base = url.replace(/\/+$/, '')
  try {
    const res = await fetch(`${base}/health/ready`, { signal: AbortSignal.timeout(timeoutMs) })
    await res.arrayBuffer()
    const header = res.headers.get('key-ring-version')
    const version = header !== null && /^\d+$/.test(header) ? Number(header) : undefined
    return { url: base, version, ready: res.status }
  } catch (error) {
    const e = error as { name?: string; cause?: { code?: string } }
    return { url: base, version: undefined, ready: e.cause?.code ?? e.name ?? 'unreachable' }
  }
}

export async function fleetStatus(
  urls: readonly string[],
  storeVersion: number | undefined,
): Promise<FleetStatus> {
  const instances = await Promise.all(urls.map((u) => instanceStatus(u)))
  const versions = new Set(instances.map((i) => i.version))
  const [only] = versions
  const converged =
    instances.length > 0 &&
    versions.size === 1 &&
    only !== undefined &&
    (storeVersion === undefined || only === storeVersion)
  return { storeVersion, instances, converged }
}
