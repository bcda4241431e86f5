import {
  dataFreshness,
  findByHicn,
  findById,
  findByMbi,
  type Beneficiary,
  type MbiMatch,
} from '../db/beneficiaries.js'
import { findByMbiHash } from '../db/legacy-hash.js'
import type { Sender } from '../crypto/binding.js'
import { pageOf, type Paging } from '../fhir/paging.js'
import type { IdentifierCriterion } from './criterion.js'
import type { SearchDeps, SearchFacts, SearchResult } from './deps.js'
import { SearchError } from './errors.js'
import { inRange, type DateBound } from './last-updated.js'
import { lookup } from './lookup.js'
import { read } from './read.js'
import { resolveCriterion, type Lookup } from './resolve.js'

export type { Beneficiary }

/** A Patient search: an identifier, a bene_id (`_id`), or both (FHIR ANDs them), and a page. */
export interface PatientQuery {
  identifier?: IdentifierCriterion | undefined
  /** The bene_id, canonical (see the HTTP layer's parser). */
  beneId?: string | undefined
  paging: Paging
  /** `_lastUpdated`: each bound must hold for a match (FHIR ANDs repeated parameters). */
  lastUpdated?: readonly DateBound[] | undefined
  /**
   * Who is asking, as a metric label (a configured partner's name or `other`), for the legacy
   * path's per-client count and the binding metrics.
   */
  client?: string | undefined
  /** The connection's client certificate, for sender-bound tokens (src/crypto/binding.ts). */
  sender?: Sender | undefined
}

export interface PatientPage {
  /** Matches in the whole result. */
  total: number
  /** The matches on the page asked for. */
  beneficiaries: Beneficiary[]
  /**
   * When the result last changed: the newest `last_updated` of the matches, or, with none, of
   * the whole database (its freshness); the clock's time for an empty database.
   */
  lastUpdated: Date
}

/** The newest `last_updated` of the matches, else the database's freshness. */
async function resultTime(all: Beneficiary[], deps: SearchDeps): Promise<Date> {
  const newest = all.reduce<Date | undefined>(
    (max, b) => (max && max >= b.lastUpdated ? max : b.lastUpdated),
    undefined,
  )
  if (newest) return newest
  const freshness = read(deps.sql, (s) => dataFreshness(s))
  return (await lookup(freshness, deps.dbQueryTimeoutMs)) ?? deps.clock()
}

function find(deps: SearchDeps, what: Lookup): Promise<MbiMatch> {
  const { sql, dbQueryTimeoutMs: ms } = deps
  switch (what.by) {
    case 'mbi':
      return lookup(
        read(sql, (s) => findByMbi(s, what.mbi)),
        ms,
      )
    case 'hicn':
      return lookup(
        read(sql, (s) => findByHicn(s, what.hicn)),
        ms,
      )
    case 'mbi-hash':
      return lookup(
        read(sql, (s) => findByMbiHash(s, what.hash)),
        ms,
      )
  }
}

function ambiguous(): SearchError {
  return new SearchError(
    'ERR_MULTIPLE_MATCHES',
    'multiple-matches',
    'the identifier matches more than one beneficiary; no record was returned',
  )
}

function returned(facts: SearchFacts, total: number, page: Beneficiary[]): void {
  facts.beneIds = page.map((b) => b.beneId)
  facts.results = page.length
  facts.outcome = total ? 'match' : 'no_match'
}

/**
 * Finds the patients a query names and cuts the page asked for. An identifier that matches more
 * than one beneficiary fails (ERR_MULTIPLE_MATCHES): never pick one. Never throws: any failure
 * comes back as `ok: false` with the facts learned before it.
 */
export async function searchPatients(
  query: PatientQuery,
  deps: SearchDeps,
): Promise<SearchResult<PatientPage>> {
  const facts: SearchFacts = {}
  let deprecation: SearchResult<PatientPage>['deprecation']
  try {
    let all: Beneficiary[]
    if (query.identifier) {
      const resolved = await resolveCriterion(
        query.identifier,
        query.client,
        deps,
        facts,
        query.sender,
      )
      deprecation = resolved.deprecation
      const found = await find(deps, resolved.lookup)
      if (found.kind === 'ambiguous') throw ambiguous()
      all = found.kind === 'one' ? [found.beneficiary] : []
      if (query.beneId !== undefined) all = all.filter((b) => b.beneId === query.beneId)
    } else if (query.beneId !== undefined) {
      facts.format = 'id'
      const found = await lookup(
        read(deps.sql, (s) => findById(s, query.beneId!)),
        deps.dbQueryTimeoutMs,
      )
      all = found ? [found] : []
    } else {
      all = []
    }
    all = all.filter((b) => inRange(b.lastUpdated, query.lastUpdated))
    const beneficiaries = pageOf(all, query.paging)
    returned(facts, all.length, beneficiaries)
    const lastUpdated = await resultTime(all, deps)
    return {
      ok: true,
      total: all.length,
      beneficiaries,
      lastUpdated,
      facts,
      ...(deprecation && { deprecation }),
    }
  } catch (error) {
    return { ok: false, error, facts, ...(deprecation && { deprecation }) }
  }
}

/** Reads one patient by bene_id (FHIR read); `beneficiary` is undefined when there is none. */
export async function readPatient(
  beneId: string,
  deps: SearchDeps,
): Promise<SearchResult<{ beneficiary: Beneficiary | undefined }>> {
  const facts: SearchFacts = { format: 'id' }
  try {
    const beneficiary = await lookup(
      read(deps.sql, (s) => findById(s, beneId)),
      deps.dbQueryTimeoutMs,
    )
    const page = beneficiary ? [beneficiary] : []
    returned(facts, page.length, page)
    return { ok: true, beneficiary, facts }
  } catch (error) {
    return { ok: false, error, facts }
  }
}
