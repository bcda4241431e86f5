import { Hono } from 'hono'
import { toPatient } from '../../fhir/patient.js'
import { FHIR_JSON } from '../../fhir/systems.js'
import { readPatient } from '../../search/index.js'
import { beneIdParam } from '../bene-id.js'
import type { AppEnv } from '../env.js'
import { HttpError } from '../errors.js'
import { formBody } from '../form.js'
import { singleParams, singleValues } from '../params.js'
import {
  answerSearch,
  parseSearch,
  SEARCH_PARAMS,
  type PatientSearchDeps,
} from '../patient-search.js'
import { markSearch, settle } from '../search-facts.js'

/**
 * `GET /Patient` (search-type), `POST /Patient/_search` (the same search in a form body, where a
 * plaintext MBI is allowed) and `GET /Patient/{bene_id}` (read). Each parses, calls the search
 * layer once, and renders.
 */
export function patientRoutes(deps: PatientSearchDeps) {
  return new Hono<AppEnv>()
    .get('/Patient', async function searchPatient(c) {
      markSearch(c)
      const params = singleParams(c.req.url, SEARCH_PARAMS)
      return answerSearch(c, parseSearch(params, 'url'), deps)
    })
    .post('/Patient/_search', formBody(), async function searchPatientByPost(c) {
      markSearch(c)
      // Search parameters go in the body; the URL may only say _format (FHIR lets both carry
      // them, but a URL is logged and cached along the way: an identifier has no place there).
      if ([...new URL(c.req.url).searchParams.keys()].some((name) => name !== '_format')) {
        throw new HttpError(
          400,
          'not-supported',
          'ERR_PARAM_UNSUPPORTED',
          'POST _search takes its search parameters in the form body, not in the URL',
        )
      }
      const query = singleParams(c.req.url, ['_format'])
      const pairs = [...new URLSearchParams(await c.req.text()), ...query]
      const params = singleValues(pairs, SEARCH_PARAMS)
      return answerSearch(c, parseSearch(params, 'body'), deps)
    })
    .get('/Patient/:id', async function readPatientById(c) {
      const raw = c.req.param('id')
      if (raw === '_search') {
        throw new HttpError(405, 'not-supported', 'ERR_METHOD_NOT_ALLOWED', 'method not allowed', {
          Allow: 'POST',
        })
      }
      singleParams(c.req.url, ['_format'])
      markSearch(c)
      c.get('search').format = 'id'
      const result = await readPatient(beneIdParam(raw), deps)
      settle(c, result)
      if (!result.beneficiary) {
        throw new HttpError(404, 'not-found', 'ERR_PATIENT_NOT_FOUND', 'no Patient has that id')
      }
      c.header('Content-Type', FHIR_JSON)
      c.header('Cache-Control', 'no-store')
      return c.body(JSON.stringify(toPatient(result.beneficiary)))
    })
}
