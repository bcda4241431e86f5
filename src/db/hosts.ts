/**
 * Connection strings that list several hosts, as libpq and postgres.js take them:
 * `postgres://user:password@h1:5432,h2:5433/db?target_session_attrs=read-write`.
 */

export interface HostUrl {
  /** `host:port` as written, for logs: never the user or the password. */
  host: string
  /** The same connection string naming this host only. */
  url: string
}

const MULTI_HOST = /^(postgres(?:ql)?:\/\/)(?:([^@/?#]*)@)?([^/?#]*)(.*)$/

/**
 * The hosts of a connection string in the order listed, each with a one-host string. Options in
 * `drop` (e.g. `target_session_attrs`, which means nothing for one host) are left out of those.
 */
export function splitHosts(url: string, drop: readonly string[] = []): HostUrl[] {
  const m = MULTI_HOST.exec(url)
  if (!m) return []
  const [, scheme, userinfo, hosts, rest] = m
  const auth = userinfo === undefined ? '' : `${userinfo}@`
  const [path, query] = rest!.split(/\?(.*)/s) as [string, string | undefined]
  const kept = (query ?? '')
    .split('&')
    .filter((p) => p && !drop.includes(decodeURIComponent(p.split('=')[0]!)))
  const tail = kept.length ? `${path}?${kept.join('&')}` : path
  return hosts!
    .split(',')
    .filter(Boolean)
    .map((host) => ({ host, url: `${scheme}${auth}${host}${tail}` }))
}

/** The hosts of a connection string, `host:port` each, for a log line. */
export function describeHosts(url: string): string {
  return splitHosts(url)
    .map((h) => h.host)
    .join(',')
}

export type HostsProblem = 'not-a-url' | 'scheme' | 'no-host'

/**
 * Checks a connection string that may list several hosts: each one-host string it stands for
 * must be a `postgres://` or `postgresql://` URL. Returns what is wrong, or undefined.
 */
export function checkHostsUrl(url: string): HostsProblem | undefined {
  if (!/^postgres(?:ql)?:\/\//.test(url)) return 'scheme'
  const hosts = splitHosts(url)
  if (hosts.length === 0) return 'no-host'
  for (const h of hosts) {
    try {
      if (!new URL(h.url).hostname) return 'no-host'
    } catch {
      return 'not-a-url'
    }
  }
  return undefined
}
