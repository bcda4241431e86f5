import { Hono } from 'hono'
import { openToken } from '../../crypto/token.js'
import { findByMbi } from '../../db/beneficiaries.js'
import type { Sql } from '../../db/sql.js'
import { searchsetBundle } from '../../fhir/bundle.js'
import { toPatient } from '../../fhir/patient.js'
import { FHIR_JSON } from '../../fhir/systems.js'
import type { KeyRingSource } from '../../keys/keyring.js'
import type { Metrics } from '../../metrics/index.js'
import type { AppEnv } from '../env.js'
import { HttpError } from '../errors.js'
import { encryptedIdentifier } from '../identifier.js'
import { singleParams } from '../params.js'

export interface PatientRouteDeps {
  keys: KeyRingSource
  sql: Sql
  clock: () => Date
  fhirBase: string
  metrics: Metrics
}

export function patientRoutes({ keys, sql, clock, fhirBase, metrics }: PatientRouteDeps) {
  return new Hono<AppEnv>().get('/Patient', async function searchPatient(c) {
    const params = singleParams(c.req.url, ['identifier', '_format'])
    const identifier = params.get('identifier')
    if (identifier === undefined) {
      throw new HttpError(
        400,
        'required',
        'ERR_PARAM_MISSING',
        'the identifier parameter is required',
      )
    }
    const token = encryptedIdentifier(identifier)
    // One ring for the whole request: a reload in flight cannot split a decision.
    const ring = keys.current()
    const now = clock()
    const search = c.get('search')
    const opened = await openToken(token, ring, now)
    search.format = opened.format
    search.kid = opened.kid
    metrics.keyUsed(opened.kid, opened.format, now)

    const match = await findByMbi(sql, opened.mbi)
    if (match.kind === 'ambiguous') {
      throw new HttpError(
        409,
        'multiple-matches',
        'ERR_MULTIPLE_MATCHES',
        'the identifier matches more than one beneficiary; no record was returned',
      )
    }
    const patients = match.kind === 'one' ? [toPatient(match.beneficiary)] : []
    search.results = patients.length
    search.outcome = patients.length ? 'match' : 'no_match'
    const self = `${fhirBase}/Patient${new URL(c.req.url).search}`
    c.header('Content-Type', FHIR_JSON)
    c.header('Cache-Control', 'no-store')
    return c.body(JSON.stringify(searchsetBundle(patients, { self, fhirBase }, now)))
  })
}
