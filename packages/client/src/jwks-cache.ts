import type { GatewayJwk } from './jwe.js'
import type { Jwks } from './jwks.js'
import { chooseKey, parseJwks } from './jwks.js'

/** The shortest time between two fetches that `refresh()` forces, by default (seconds). */
export const DEFAULT_MIN_REFRESH_SECONDS = 10

export interface JwksCacheOptions {
  /** The fetch to use (default: the global one; browsers, edge runtimes and Node have it). */
  fetch?: (url: string, init: RequestInit) => Promise<Response>
  /** Clock in milliseconds (default Date.now). */
  now?: () => number
  /** Freshness when the response gives no max-age, in seconds (default 0: revalidate each time). */
  defaultMaxAgeSeconds?: number
  /** The longest max-age honoured, in seconds (default 86,400): a rotated key is seen within it. */
  maxAgeCapSeconds?: number
  /**
   * The shortest time between two fetches forced by `refresh()` or `key()`, in seconds (default
   * 10): however many searches fail with ERR_TOKEN_KID_UNKNOWN, the gateway gets at most one
   * JWKS request per interval from this cache (plus the ones max-age allows).
   */
  minRefreshIntervalSeconds?: number
  /** Extra request options (headers, credentials, signal...). */
  init?: RequestInit
}

export interface KeyOptions {
  /** `hpke`: only keys that publish an `hpke_key_id`. */
  format?: 'jwe' | 'hpke'
  /** A kid not to use (the one the gateway just answered ERR_TOKEN_KID_UNKNOWN for). */
  exclude?: string
}

export interface JwksCache {
  /** The JWKS: from the cache while fresh, else fetched again (revalidated with its ETag). */
  get(): Promise<Jwks>
  /**
   * Fetches now, whatever the freshness (after ERR_TOKEN_KID_UNKNOWN: the key was rotated out or
   * revoked), at most once per `minRefreshIntervalSeconds`: within the interval it answers with
   * the JWKS the last fetch gave.
   */
  refresh(): Promise<Jwks>
  /**
   * A key of the curve to encrypt to (chooseKey's choice), other than `exclude`. When the cached
   * JWKS has none, it is fetched again (rate-limited as `refresh()`) and asked once more; then it
   * throws.
   */
  key(crv?: 'P-256' | 'X25519', options?: KeyOptions): Promise<GatewayJwk>
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
  const minRefreshMs = (options.minRefreshIntervalSeconds ?? DEFAULT_MIN_REFRESH_SECONDS) * 1000
  let entry: Entry | undefined
  let inFlight: Promise<Jwks> | undefined
  /** The JWKS the last fetch gave (kept under no-store too, for the rate limit) and when. */
  let last: { jwks: Jwks; at: number } | undefined

  async function load(): Promise<Jwks> {
    const headers = new Headers(options.init?.headers)
    headers.set('Accept', 'application/jwk-set+json, application/json')
    if (entry?.etag) headers.set('If-None-Match', entry.etag)
    const res = await doFetch(url, { ...options.init, headers })
    const freshFor = freshnessSeconds(res.headers, fallback, cap) * 1000
    if (res.status === 304 && entry) {
      // RFC 9111 §4.3.4: a 304 freshens the stored response.
      entry = { ...entry, expires: now() + freshFor }
      last = { jwks: entry.jwks, at: now() }
      return entry.jwks
    }
    if (!res.ok) throw new Error(`JWKS request failed with HTTP ${res.status}`)
    const jwks = parseJwks(await res.text())
    last = { jwks, at: now() }
    const noStore = /(^|,)\s*no-store\s*(,|$)/i.test(res.headers.get('cache-control') ?? '')
    entry = noStore
      ? undefined
      : { jwks, etag: res.headers.get('etag') ?? undefined, expires: now() + freshFor }
    return jwks
  }

  function fetchOnce(): Promise<Jwks> {
    inFlight ??= load().finally(() => {
      inFlight = undefined
    })
    return inFlight
  }

  function refresh(): Promise<Jwks> {
    if (inFlight) return inFlight
    if (last && now() - last.at < minRefreshMs) return Promise.resolve(last.jwks)
    return fetchOnce()
  }

  async function get(): Promise<Jwks> {
    if (entry && now() < entry.expires) return entry.jwks
    return fetchOnce()
  }

  const pick = (jwks: Jwks, crv: 'P-256' | 'X25519' | undefined, o: KeyOptions) =>
    chooseKey({ keys: jwks.keys.filter((k) => k.kid !== o.exclude) }, crv, { format: o.format })

  return {
    get,
    refresh,
    async key(crv, keyOptions = {}) {
      try {
        return pick(await get(), crv, keyOptions)
      } catch {
        // No key of the curve in the cached JWKS: the gateway may have published one since.
        return pick(await refresh(), crv, keyOptions)
      }
    },
  }
}
