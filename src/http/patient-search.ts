import type { Context } from 'hono'
import { searchsetBundle } from '../fhir/bundle.js'
import { toPatient } from '../fhir/patient.js'
import { pagingLinks } from '../fhir/paging.js'
import { FHIR_JSON, SYSTEM } from '../fhir/systems.js'
import {
  parseIdentifier,
  searchPatients,
  type ParameterSource,
  type PatientQuery,
  type SearchDeps,
} from '../search/index.js'
import { beneIdParam } from './bene-id.js'
import type { AppEnv } from './env.js'
import { HttpError } from './errors.js'
import { parsePaging } from './paging.js'
import { settle } from './search-facts.js'

/** The parameters a Patient search takes, by GET or in a POST body (FHIR "strict" handling). */
export const SEARCH_PARAMS = ['identifier', '_id', '_count', 'startIndex', '_format'] as const

export interface PatientSearchDeps extends SearchDeps {
  fhirBase: string
}

export type SearchRequest = Required<Pick<PatientQuery, 'paging'>> & PatientQuery

/** Reads a search from its parameters; `source` says whether they came in a URL or a body. */
export function parseSearch(
  params: ReadonlyMap<string, string>,
  source: ParameterSource,
): SearchRequest {
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
  return {
    identifier: identifier === undefined ? undefined : parseIdentifier(identifier, source),
    beneId: id === undefined ? undefined : beneIdParam(id),
    paging: parsePaging(params),
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
  return parts.join('&')
}

/**
 * Runs a Patient search and answers with a searchset Bundle: one page of the matches, the total,
 * and links. Links are GET URLs holding only ciphertext, a hash or a bene_id; a POST search by
 * plaintext MBI gets a `self` link to `_search` and no paging links (the client pages by posting
 * again with `startIndex`), so no link ever repeats a plaintext identifier.
 */
export async function answerSearch(
  c: Context<AppEnv>,
  request: SearchRequest,
  deps: PatientSearchDeps,
): Promise<Response> {
  const result = await searchPatients({ ...request, client: c.get('client') }, deps)
  settle(c, result)
  const patients = result.beneficiaries.map(toPatient)

  const { fhirBase } = deps
  const query = linkQuery(request)
  const url = (startIndex: number) =>
    `${fhirBase}/Patient?${query}&_count=${request.paging.count}&startIndex=${startIndex}`
  let self: string
  if (c.req.method !== 'POST') self = `${fhirBase}/Patient${new URL(c.req.url).search}`
  else self = query === undefined ? `${fhirBase}/Patient/_search` : url(request.paging.startIndex)
  const links = query === undefined ? [] : pagingLinks(result.total, request.paging, url)

  c.header('Content-Type', FHIR_JSON)
  c.header('Cache-Control', 'no-store')
  const page = { total: result.total, links }
  return c.body(JSON.stringify(searchsetBundle(patients, { self, fhirBase }, deps.clock(), page)))
}
