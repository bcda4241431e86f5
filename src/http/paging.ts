import { DEFAULT_COUNT, MAX_COUNT, type Paging } from '../fhir/paging.js'
import { HttpError } from './errors.js'

function wholeNumber(name: string, raw: string): number {
  if (!/^[0-9]{1,9}$/.test(raw)) {
    throw new HttpError(
      400,
      'invalid',
      'ERR_PARAM_INVALID',
      `${name} must be a whole number from 0 to 999999999`,
    )
  }
  return Number(raw)
}

/** `_count` (lowered to MAX_COUNT) and `startIndex` from a search's parameters, or defaults. */
export function parsePaging(params: ReadonlyMap<string, string>): Paging {
  const count = params.get('_count')
  const start = params.get('startIndex')
  return {
    count: count === undefined ? DEFAULT_COUNT : Math.min(wholeNumber('_count', count), MAX_COUNT),
    startIndex: start === undefined ? 0 : wholeNumber('startIndex', start),
  }
}
