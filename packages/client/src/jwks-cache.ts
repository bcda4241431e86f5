import type { Jwks } from './jwks.js'
import { parseJwks } from './jwks.js'

export interface JwksCacheOptions {
  /** The fetch to use (default: the global one; browsers, edge runtimes and Node have it). */
  fetch?: (url: string, init: RequestInit) => Promise<Response>
  /** Clock in milliseconds (default Date.now). */
  now?: () => number
  /** Freshness when the response gives no max-age, in seconds (default 0: revalidate each time). */
  defaultMaxAgeSeconds?: number
  /** The longest max-age honoured, in seconds (default 86,400): a rotated key is seen within it. */
  maxAgeCapSeconds?: number
  /** Extra request options (headers, credentials, signal...). */
  init?: RequestInit
}

export interface JwksCache {
  /** The JWKS: from the cache while fresh, else fetched again (revalidated with its ETag). */
  get(): Promise<Jwks>
  /** Fetches now, whatever the freshness: after ERR_TOKEN_KID_UNKNOWN, the key was rotated out. */
  refresh(): Promise<Jwks>
}

interface Entry {
  jwks: Jwks
  etag: string | undefined
  /** Milliseconds since the epoch after which the entry is stale. */
  expires: number
}

/**
 * How long a response stays fresh, in seconds (RFC 9111 §4.2.1 and §5.2.2, for a private
 * cache): `max-age` less the `Age` it already has; 0 under `no-cache` or `no-store`.
 */
export function freshnessSeconds(headers: Headers, fallback: number, cap: number): number {
  const directives = (headers.get('cache-control') ?? '')
    .toLowerCase()
    .split(',')
    .map((d) => d.trim())
  if (directives.some((d) => d === 'no-cache' || d === 'no-store')) return 0
  const maxAge = directives.find((d) => d.startsWith('max-age='))?.slice('max-age='.length)
  const lifetime = maxAge !== undefined && /^\d+$/.test(maxAge) ? Number(maxAge) : fallback
  const age = Number(headers.get('age') ?? '0')
  const current = Number.isFinite(age) && age > 0 ? age : 0
  return Math.max(0, Math.min(lifetime, cap) - current)
}

/**
 * A JWKS cache for one gateway. It honours Cache-Control max-age, revalidates with
 * If-None-Match (a 304 keeps the cached keys), and makes one request at a time however many
 * callers wait. Runs wherever `fetch` does: browsers, edge runtimes, Node.
 */
export function createJwksCache(url: string, options: JwksCacheOptions = {}): JwksCache {
  const doFetch = options.fetch ?? ((u: string, init: RequestInit) => globalThis.fetch(u, init))
  const now = options.now ?? Date.now
  const fallback = options.defaultMaxAgeSeconds ?? 0
  const cap = options.maxAgeCapSeconds ?? 86_400
  let entry: Entry | undefined
  let inFlight: Promise<Jwks> | undefined

  async function load(): Promise<Jwks> {
    const headers = new Headers(options.init?.headers)
    headers.set('Accept', 'application/jwk-set+json, application/json')
    if (entry?.etag) headers.set('If-None-Match', entry.etag)
    const res = await doFetch(url, { ...options.init, headers })
    const freshFor = freshnessSeconds(res.headers, fallback, cap) * 1000
    if (res.status === 304 && entry) {
      // RFC 9111 §4.3.4: a 304 freshens the stored response.
      entry = { ...entry, expires: now() + freshFor }
      return entry.jwks
    }
    if (!res.ok) throw new Error(`JWKS request failed with HTTP ${res.status}`)
    const jwks = parseJwks(await res.text())
    const noStore = /(^|,)\s*no-store\s*(,|$)/i.test(res.headers.get('cache-control') ?? '')
    entry = noStore
      ? undefined
      : { jwks, etag: res.headers.get('etag') ?? undefined, expires: now() + freshFor }
    return jwks
  }

  function refresh(): Promise<Jwks> {
    inFlight ??= load().finally(() => {
      inFlight = undefined
    })
    return inFlight
  }

  return {
    async get() {
      if (entry && now() < entry.expires) return entry.jwks
      return refresh()
    },
    refresh,
  }
}
