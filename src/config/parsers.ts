import { availableParallelism } from 'node:os'
import { checkHostsUrl, type HostsProblem } from '../db/hosts.js'
import { InvalidValue } from './errors.js'

/**
 * Parsers of one variable's text (never empty: an empty variable is unset). Each returns the
 * value or throws InvalidValue; the reader adds the variable's name.
 */
export type Parser<T> = (raw: string) => T

export const text: Parser<string> = (raw) => raw

export function integer(min: number, max: number): Parser<number> {
  return (raw) => {
    if (!/^\d+$/.test(raw)) throw new InvalidValue('expected a whole number', true)
    const value = Number(raw)
    if (value < min || value > max) throw new InvalidValue(`must be between ${min} and ${max}`)
    return value
  }
}

export const boolean: Parser<boolean> = (raw) => {
  if (['1', 'true', 'yes', 'on'].includes(raw.toLowerCase())) return true
  if (['0', 'false', 'no', 'off'].includes(raw.toLowerCase())) return false
  throw new InvalidValue('expected true or false', true)
}

export function oneOf<T extends string>(values: readonly T[]): Parser<T> {
  return (raw) => {
    if (!(values as readonly string[]).includes(raw)) {
      throw new InvalidValue(`must be one of ${values.join(', ')}`)
    }
    return raw as T
  }
}

/** A URL with one of the given schemes. Never echoed: a connection string can hold a password. */
export function url(protocols: readonly string[]): Parser<string> {
  return (raw) => {
    let parsed: URL
    try {
      parsed = new URL(raw)
    } catch {
      throw new InvalidValue('is not a valid URL')
    }
    if (!protocols.includes(parsed.protocol)) {
      throw new InvalidValue(`must start with ${protocols.join(' or ')}`)
    }
    return raw
  }
}

const HOSTS_PROBLEM: Record<HostsProblem, string> = {
  scheme: 'must start with postgres: or postgresql:',
  'no-host': 'names no host',
  'not-a-url': 'is not a valid URL',
}

/**
 * A PostgreSQL connection string, with one host or several (`postgres://u:p@h1:5432,h2/db`).
 * Never echoed: it can hold a password.
 */
export const postgresUrl: Parser<string> = (raw) => {
  const problem = checkHostsUrl(raw)
  if (problem) throw new InvalidValue(HOSTS_PROBLEM[problem])
  return raw
}

export const sqlIdentifier: Parser<string> = (raw) => {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(raw)) {
    throw new InvalidValue('must be a lower-case SQL identifier')
  }
  return raw
}

/** Hex-encoded bytes, at least `minBytes` of them; surrounding white space is ignored. */
export function hexBytes(minBytes: number): Parser<Buffer> {
  return (raw) => {
    const hex = raw.trim()
    if (!/^(?:[0-9a-fA-F]{2})+$/.test(hex) || hex.length < 2 * minBytes) {
      throw new InvalidValue(
        minBytes > 1
          ? `must be at least ${minBytes} bytes, hex-encoded (${2 * minBytes}+ hex digits)`
          : 'must be hex-encoded bytes',
      )
    }
    return Buffer.from(hex, 'hex')
  }
}

function fingerprint(f: string): string {
  const hex = f.replace(/:/g, '').toUpperCase()
  if (!/^[0-9A-F]{64}$/.test(hex)) {
    throw new InvalidValue('entries must be SHA-256 fingerprints (64 hex digits)')
  }
  return hex.match(/../g)!.join(':')
}

/** Comma-separated SHA-256 fingerprints, written back upper-case and colon-separated. */
export const fingerprints: Parser<string[]> = (raw) =>
  raw
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean)
    .map(fingerprint)

export interface AllowlistEntry {
  /** Upper-case hex, colon-separated, as node prints `fingerprint256`. */
  fingerprint: string
  /** Marked `=bound`: this client's identifier tokens must be sender-bound. */
  bound: boolean
  /** Marked `=pq`: this client's identifier tokens must be hybrid post-quantum (X-Wing). */
  pq: boolean
}

const MARKS: Record<string, { bound: boolean; pq: boolean }> = {
  bound: { bound: true, pq: false },
  pq: { bound: false, pq: true },
  'bound+pq': { bound: true, pq: true },
}

/** Comma-separated SHA-256 fingerprints, each optionally followed by `=bound`, `=pq` or `=bound+pq`. */
export const clientAllowlist: Parser<AllowlistEntry[]> = (raw) =>
  raw
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean)
    .map((entry) => {
      const [f, mark, ...more] = entry.split('=')
      const marks = mark === undefined ? { bound: false, pq: false } : MARKS[mark.trim()]
      if (more.length || !marks) {
        throw new InvalidValue(
          'an entry is a fingerprint, optionally followed by =bound, =pq or =bound+pq',
        )
      }
      return { fingerprint: fingerprint(f!.trim()), ...marks }
    })

/** `auto` (one per core) or a whole number up to `max`. */
export function countOrAuto(max: number): Parser<number> {
  const count = integer(0, max)
  return (raw) => {
    if (raw === 'auto') return availableParallelism()
    if (!/^\d+$/.test(raw)) throw new InvalidValue('expected auto or a whole number', true)
    return count(raw)
  }
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const HTTP_DATE = new RegExp(
  `^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\\d{2}) (${MONTHS.join('|')}) (\\d{4}) (\\d{2}):(\\d{2}):(\\d{2}) GMT$`,
)
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}:\d{2}(?:\.\d{3})?Z)?$/

/**
 * A date given as an HTTP-date (RFC 9110 §5.6.7 IMF-fixdate, `Wed, 30 Jun 2027 00:00:00 GMT`), an
 * ISO 8601 date (`2027-06-30`, midnight UTC) or UTC date-time (`2027-06-30T12:00:00Z`). Checked
 * by writing it back: `2027-02-30` or a wrong weekday is refused, not rolled over.
 */
export const date: Parser<Date> = (raw) => {
  const http = HTTP_DATE.exec(raw)
  let value: Date | undefined
  if (http) {
    const [, d, mon, y, h, mi, sec] = http
    value = new Date(Date.UTC(+y!, MONTHS.indexOf(mon!), +d!, +h!, +mi!, +sec!))
    if (value.toUTCString() !== raw) value = undefined
  } else if (ISO_DATE.test(raw)) {
    value = new Date(raw.length === 10 ? `${raw}T00:00:00.000Z` : raw)
    const back = Number.isNaN(value.getTime()) ? '' : value.toISOString()
    if (!back.startsWith(raw.replace(/Z$/, ''))) value = undefined
  }
  if (!value) {
    throw new InvalidValue(
      'expected an HTTP-date (Wed, 30 Jun 2027 00:00:00 GMT) or an ISO date (2027-06-30)',
      true,
    )
  }
  return value
}
