import { Hono, type Context } from 'hono'
import { toPatient } from '../../fhir/patient.js'
import { readPatient } from '../../search/index.js'
import { beneIdParam } from '../bene-id.js'
import { patientOptions } from '../bfd-headers.js'
import type { AppEnv } from '../env.js'
import { HttpError } from '../errors.js'
import { formBody, readFormBody } from '../form.js'
import { singleParams, singleValues } from '../params.js'
import {
  answerSearch,
  parseSearch,
  REPEATABLE,
  SEARCH_PARAMS,
  type PatientSearchDeps,
} from '../patient-search.js'
import { fhirJson, RESULT_PARAMS, resultOptions } from '../result-params.js'
import { markSearch, settle } from '../search-facts.js'

const rules = { repeatable: REPEATABLE }

/**
 * `GET /Patient` (search-type; also `/Patient/`, the form BFD's own links use), `POST
 * /Patient/_search` (the same search in a form body, where a plaintext MBI is allowed) and
 * `GET /Patient/{bene_id}` (read). Each parses, calls the search layer once, and renders.
 */
export function patientRoutes(deps: PatientSearchDeps) {
  async function searchPatient(c: Context<AppEnv>) {
    markSearch(c)
    const params = singleParams(c.req.url, SEARCH_PARAMS, rules)
    return answerSearch(c, parseSearch(params, 'url'), deps)
  }
  return new Hono<AppEnv>()
    .get('/Patient', searchPatient)
    .get('/Patient/', searchPatient)
    .post('/Patient/_search', formBody(), async function searchPatientByPost(c) {
      markSearch(c)
      // Search parameters go in the body; the URL may only shape the answer (_format, _pretty,
      // ...): FHIR lets both carry them, but a URL is logged and cached along the way, and an
      // identifier has no place there.
      const inUrl = [...new URL(c.req.url).searchParams.keys()]
      if (inUrl.some((name) => !(RESULT_PARAMS as readonly string[]).includes(name))) {
        throw new HttpError(
          400,
          'not-supported',
          'ERR_PARAM_UNSUPPORTED',
          'POST _search takes its search parameters in the form body, not in the URL',
        )
      }
      const query = singleParams(c.req.url, RESULT_PARAMS)
      const pairs = [...new URLSearchParams(await readFormBody(c)), ...query]
      const params = singleValues(pairs, SEARCH_PARAMS, rules)
      return answerSearch(c, parseSearch(params, 'body'), deps)
    })
    .get('/Patient/:id', async function readPatientById(c) {
      const raw = c.req.param('id')
      if (raw === '_search') {
        throw new HttpError(405, 'not-supported', 'ERR_METHOD_NOT_ALLOWED', 'method not allowed', {
          Allow: 'POST',
        })
      }
      const result = resultOptions(singleParams(c.req.url, RESULT_PARAMS))
      const options = patientOptions(c)
      markSearch(c)
      c.get('search').format = 'id'
      const read = await readPatient(beneIdParam(raw), deps)
      settle(c, read)
      if (!read.beneficiary) {
        throw new HttpError(404, 'not-found', 'ERR_PATIENT_NOT_FOUND', 'no Patient has that id')
      }
      return fhirJson(c, toPatient(read.beneficiary, options), result)
    })
}
