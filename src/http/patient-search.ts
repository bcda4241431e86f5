import type { Context } from 'hono'
import type { LegacyHashConfig } from '../config/index.js'
import { findByHicn, findById, findByMbi, type MbiMatch } from '../db/beneficiaries.js'
import { findByMbiHash } from '../db/legacy-hash.js'
import type { Sql } from '../db/sql.js'
import { searchsetBundle } from '../fhir/bundle.js'
import { toPatient } from '../fhir/patient.js'
import { pageOf, pagingLinks, type Paging } from '../fhir/paging.js'
import { FHIR_JSON, SYSTEM } from '../fhir/systems.js'
import { beneIdParam } from './bene-id.js'
import type { AppEnv } from './env.js'
import { HttpError } from './errors.js'
import { searchIdentifier, type IdentifierCriterion, type ParameterSource } from './identifier.js'
import { parsePaging } from './paging.js'
import {
  beginSearch,
  openSearchToken,
  searchResults,
  withDbTimeout,
  type SearchDeps,
} from './search-context.js'

/** The parameters a Patient search takes, by GET or in a POST body (FHIR "strict" handling). */
export const SEARCH_PARAMS = ['identifier', '_id', '_count', 'startIndex', '_format'] as const

/** The search paths an operator turns on for the migration; both off by default. */
export interface SearchFeatures {
  /** Legacy `mbi-hash` search (deprecated), with its Deprecation and Sunset dates. */
  legacyHash?: LegacyHashConfig | undefined
  /** Encrypted HICN search (`hicn-encrypted`). */
  hicnSearch?: boolean | undefined
}

export interface PatientSearchDeps extends SearchDeps {
  sql: Sql
  fhirBase: string
  features: SearchFeatures
}

export interface SearchRequest {
  identifier: IdentifierCriterion | undefined
  /** `_id`: the bene_id, canonical. With `identifier` too, both must hold (FHIR ANDs them). */
  beneId: string | undefined
  paging: Paging
}

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
    identifier: identifier === undefined ? undefined : searchIdentifier(identifier, source),
    beneId: id === undefined ? undefined : beneIdParam(id),
    paging: parsePaging(params),
  }
}

function notEnabled(what: string): HttpError {
  return new HttpError(
    400,
    'not-supported',
    'ERR_IDENTIFIER_SYSTEM_NOT_ENABLED',
    `search by ${what} is not enabled on this gateway; use ${SYSTEM.mbiEncrypted}`,
  )
}

/**
 * The legacy hash path: counted per client whether or not it is enabled (who still depends on
 * it), refused when disabled, and when enabled every answer, errors included, carries
 * `Deprecation` (RFC 9745 §2: a Structured Field Date, `@<unix seconds>`; `@0` when no date is
 * configured: deprecated, date unspecified) and `Sunset` (RFC 8594 §3: an HTTP-date).
 */
function legacyHashPath(c: Context<AppEnv>, deps: PatientSearchDeps): void {
  deps.metrics.legacyHashRequests.inc({ client: c.get('client') ?? 'unknown' })
  const policy = deps.features.legacyHash
  if (!policy) throw notEnabled('mbi-hash')
  const deprecated = Math.floor((policy.deprecation?.getTime() ?? 0) / 1000)
  c.header('Deprecation', `@${deprecated}`)
  c.header('Sunset', policy.sunset.toUTCString())
}

async function match(
  c: Context<AppEnv>,
  request: SearchRequest,
  deps: PatientSearchDeps,
): Promise<MbiMatch> {
  const { sql, dbQueryTimeoutMs: ms } = deps
  const criterion = request.identifier
  const search = beginSearch(c)
  switch (criterion?.system) {
    case undefined: {
      search.format = 'id'
      const found = await withDbTimeout(findById(sql, request.beneId!), ms)
      return found ? { kind: 'one', beneficiary: found } : { kind: 'none' }
    }
    case 'mbi-encrypted': {
      const opened = await openSearchToken(c, criterion.token, deps)
      return withDbTimeout(findByMbi(sql, opened.mbi), ms)
    }
    case 'hicn-encrypted': {
      if (!deps.features.hicnSearch) throw notEnabled('encrypted HICN')
      const opened = await openSearchToken(c, criterion.token, deps, 'hicn')
      return withDbTimeout(findByHicn(sql, opened.hicn), ms)
    }
    case 'mbi-hash':
      legacyHashPath(c, deps)
      search.format = 'mbi-hash'
      search.fingerprint = deps.audit.fingerprint(criterion.hash, 'mbi-hash')
      return withDbTimeout(findByMbiHash(sql, criterion.hash), ms)
    case 'us-mbi':
      search.format = 'plaintext'
      search.fingerprint = deps.audit.fingerprint(criterion.mbi)
      return withDbTimeout(findByMbi(sql, criterion.mbi), ms)
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
  const found = await match(c, request, deps)
  if (found.kind === 'ambiguous') {
    throw new HttpError(
      409,
      'multiple-matches',
      'ERR_MULTIPLE_MATCHES',
      'the identifier matches more than one beneficiary; no record was returned',
    )
  }
  const all = found.kind === 'one' ? [found.beneficiary] : []
  const matches =
    request.identifier && request.beneId !== undefined
      ? all.filter((b) => b.beneId === request.beneId)
      : all
  const patients = pageOf(matches, request.paging).map(toPatient)
  searchResults(
    c,
    patients.map((p) => p.id),
  )
  // The total tells whether someone matched even on an empty page (`_count=0`).
  c.get('search').outcome = matches.length ? 'match' : 'no_match'

  const { fhirBase } = deps
  const query = linkQuery(request)
  const url = (startIndex: number) =>
    `${fhirBase}/Patient?${query}&_count=${request.paging.count}&startIndex=${startIndex}`
  let self: string
  if (c.req.method !== 'POST') self = `${fhirBase}/Patient${new URL(c.req.url).search}`
  else self = query === undefined ? `${fhirBase}/Patient/_search` : url(request.paging.startIndex)
  const links = query === undefined ? [] : pagingLinks(matches.length, request.paging, url)

  c.header('Content-Type', FHIR_JSON)
  c.header('Cache-Control', 'no-store')
  const page = { total: matches.length, links }
  return c.body(JSON.stringify(searchsetBundle(patients, { self, fhirBase }, deps.clock(), page)))
}
