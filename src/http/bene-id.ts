import { HttpError } from './errors.js'

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

/**
 * A Patient id is a `bene_id`: a signed 64-bit integer in decimal (BFD's synthetic ids are
 * negative). Returns its canonical spelling (`007` is `7`); anything else is a 400 that does not
 * echo the value.
 */
export function beneIdParam(raw: string): string {
  if (/^-?[0-9]{1,19}$/.test(raw)) {
    const value = BigInt(raw)
    if (value >= INT64_MIN && value <= INT64_MAX) return value.toString()
  }
  throw new HttpError(
    400,
    'invalid',
    'ERR_ID_INVALID',
    'a Patient id is a bene_id: a signed 64-bit integer',
  )
}
