import type { Context } from 'hono'
import type { PatientOptions } from '../fhir/patient.js'
import type { AppEnv } from './env.js'
import { HttpError } from './errors.js'

/** The values BFD takes in `IncludeIdentifiers`, comma-separated, in any case. */
const INCLUDE_IDENTIFIERS = new Set(['true', 'false', 'hicn', 'mbi'])

/**
 * BFD's request headers for the Patient: `IncludeAddressFields: true` (any case) adds the
 * mailing address lines and city; anything else leaves them out. `IncludeIdentifiers` is checked
 * as BFD checks it (each comma-separated value one of true, false, hicn, mbi; else 400) and
 * changes nothing, as in BFD's v2: the MBIs are always there and a HICN never is.
 */
export function patientOptions(c: Context<AppEnv>): PatientOptions {
  const identifiers = c.req.header('IncludeIdentifiers')
  if (identifiers !== undefined && identifiers.trim() !== '') {
    const values = identifiers
      .toLowerCase()
      .split(',')
      .map((v) => v.trim())
    if (!values.every((v) => INCLUDE_IDENTIFIERS.has(v))) {
      throw new HttpError(
        400,
        'invalid',
        'ERR_HEADER_INVALID',
        'IncludeIdentifiers takes true, false, hicn or mbi, comma-separated',
      )
    }
  }
  const address = c.req.header('IncludeAddressFields')
  return { includeAddressFields: address?.trim().toLowerCase() === 'true' }
}
