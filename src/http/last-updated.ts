import type { DateBound } from '../search/index.js'
import { HttpError } from './errors.js'

/** Most `_lastUpdated` values in one search: a lower and an upper bound. */
export const MAX_LAST_UPDATED = 2

// FHIR R4 search §3.1.1.5.5: a date search value, an optional prefix, and a date or dateTime
// whose precision is the range it names (a day names the whole day).
const VALUE =
  /^(eq|gt|ge|lt|le)?(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/

function invalid(): HttpError {
  return new HttpError(
    400,
    'invalid',
    'ERR_PARAM_INVALID',
    '_lastUpdated is a date or dateTime with an optional prefix eq, gt, ge, lt or le',
  )
}

/**
 * One `_lastUpdated` value as the instant range its precision names, `[start, end)` in
 * milliseconds. A value without a time zone is read as UTC (FHIR leaves it to the server).
 */
export function parseLastUpdated(value: string): DateBound {
  const m = VALUE.exec(value)
  if (!m) throw invalid()
  const [, prefix = 'eq', y, mo, d, h, mi, s, frac, zone] = m
  const year = Number(y)
  const month = mo === undefined ? 0 : Number(mo) - 1
  const day = d === undefined ? 1 : Number(d)
  const hour = h === undefined ? 0 : Number(h)
  const minute = mi === undefined ? 0 : Number(mi)
  const second = s === undefined ? 0 : Number(s)
  const ms = frac === undefined ? 0 : Math.floor(Number(`0${frac}`) * 1000)
  if (month > 11 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) throw invalid()
  let start = Date.UTC(year, month, day, hour, minute, second, ms)
  const check = new Date(start)
  if (check.getUTCMonth() !== month || check.getUTCDate() !== day) throw invalid()
  if (zone && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1
    const [zh, zm] = zone.slice(1).split(':').map(Number) as [number, number]
    if (zh > 14 || zm > 59) throw invalid()
    start -= sign * (zh * 60 + zm) * 60_000
  }
  const end =
    mo === undefined
      ? Date.UTC(year + 1, 0, 1)
      : d === undefined
        ? Date.UTC(year, month + 1, 1)
        : h === undefined
          ? start + 86_400_000
          : s === undefined
            ? start + 60_000
            : frac === undefined
              ? start + 1000
              : start + 1
  return { prefix: prefix as DateBound['prefix'], start, end }
}

/** Every `_lastUpdated` value of a search (at most two, ANDed), or undefined without one. */
export function parseLastUpdatedParams(values: readonly string[]): DateBound[] | undefined {
  if (values.length === 0) return undefined
  if (values.length > MAX_LAST_UPDATED) {
    throw new HttpError(
      400,
      'invalid',
      'ERR_PARAM_REPEATED',
      '_lastUpdated is given more than twice',
    )
  }
  return values.map(parseLastUpdated)
}
