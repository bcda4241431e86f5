import type { Context } from 'hono'
import { searchsetBundle } from '../fhir/bundle.js'
import { toPatient } from '../fhir/patient.js'
import { pagingLinks } from '../fhir/paging.js'
import { SYSTEM } from '../fhir/systems.js'
import {
  parseIdentifier,
  searchPatients,
  type ParameterSource,
  type PatientQuery,
  type SearchDeps,
} from '../search/index.js'
import { beneIdParam } from './bene-id.js'
import { patientOptions } from './bfd-headers.js'
import type { AppEnv } from './env.js'
import { HttpError } from './errors.js'
import { parseLastUpdatedParams } from './last-updated.js'
import { parsePaging } from './paging.js'
import type { Params } from './params.js'
import { fhirJson, RESULT_PARAMS, resultOptions, type ResultOptions } from './result-params.js'
import { settle } from './search-facts.js'

/** The parameters a Patient search takes, by GET or in a POST body (FHIR "strict" handling). */
export const SEARCH_PARAMS = [
  'identifier',
  '_id',
  '_lastUpdated',
  '_count',
  'startIndex',
  ...RESULT_PARAMS,
] as const

/** Parameters that may come twice: `_lastUpdated` takes a lower and an upper bound. */
export const REPEATABLE = ['_lastUpdated'] as const

export interface PatientSearchDeps extends SearchDeps {
  fhirBase: string
}

export type SearchRequest = Required<Pick<PatientQuery, 'paging'>> &
  PatientQuery & {
    /** The `_lastUpdated` values as sent, for links that repeat the search. */
    lastUpdatedValues: string[]
    result: ResultOptions
  }

/** Reads a search from its parameters; `source` says whether they came in a URL or a body. */
export function parseSearch(params: Params, source: ParameterSource): SearchRequest {
  const identifier = params.get('identifier')
  const id = params.get('_id')
  if (identifier === undefined && id === undefined) {
    throw new HttpError(
      400,
      'required',
      'ERR_PARAM_MISSING',
      'the identifier parameter (or _id) is required',
    )
  }
  const result = resultOptions(params)
  const paging = parsePaging(params)
  const lastUpdatedValues = params.all('_lastUpdated')
  return {
    identifier: identifier === undefined ? undefined : parseIdentifier(identifier, source),
    beneId: id === undefined ? undefined : beneIdParam(id),
    lastUpdated: parseLastUpdatedParams(lastUpdatedValues),
    lastUpdatedValues,
    paging: result.countOnly ? { ...paging, count: 0 } : paging,
    result,
  }
}

/**
 * The same search as a GET query, without paging, or undefined when the search names a
 * plaintext MBI: such a search has no URL form, so its Bundle links carry no identifier at all.
 */
function linkQuery(request: SearchRequest): string | undefined {
  const parts: string[] = []
  const criterion = request.identifier
  if (criterion) {
    if (criterion.system === 'us-mbi') return undefined
    const [system, value] =
      criterion.system === 'mbi-encrypted'
        ? [SYSTEM.mbiEncrypted, criterion.token]
        : criterion.system === 'hicn-encrypted'
          ? [SYSTEM.hicnEncrypted, criterion.token]
          : [SYSTEM.mbiHash, criterion.hash]
    parts.push(`identifier=${system}%7C${encodeURIComponent(value)}`)
  }
  if (request.beneId !== undefined) parts.push(`_id=${request.beneId}`)
  for (const v of request.lastUpdatedValues) parts.push(`_lastUpdated=${encodeURIComponent(v)}`)
  return parts.join('&')
}

/**
 * Runs a Patient search and answers with a searchset Bundle: one page of the matches, the total,
 * and links; `meta.lastUpdated` is when the result last changed. Links are GET URLs holding only
 * ciphertext, a hash or a bene_id; a POST search by plaintext MBI gets a `self` link to
 * `_search` and no paging links (the client pages by posting again with `startIndex`), so no
 * link ever repeats a plaintext identifier.
 */
export async function answerSearch(
  c: Context<AppEnv>,
  request: SearchRequest,
  deps: PatientSearchDeps,
): Promise<Response> {
  const options = patientOptions(c)
  const result = await searchPatients(
    { ...request, client: c.get('partner'), sender: c.get('sender') },
    deps,
  )
  settle(c, result)
  const patients = result.beneficiaries.map((b) => toPatient(b, options))

  const { fhirBase } = deps
  const query = linkQuery(request)
  const url = (startIndex: number) =>
    `${fhirBase}/Patient?${query}&_count=${request.paging.count}&startIndex=${startIndex}`
  let self: string
  if (c.req.method !== 'POST') self = `${fhirBase}/Patient${new URL(c.req.url).search}`
  else self = query === undefined ? `${fhirBase}/Patient/_search` : url(request.paging.startIndex)
  const links = query === undefined ? [] : pagingLinks(result.total, request.paging, url)

  const page = { total: result.total, links }
  const bundle = searchsetBundle(patients, { self, fhirBase }, result.lastUpdated, page)
  return fhirJson(c, bundle, request.result)
}
