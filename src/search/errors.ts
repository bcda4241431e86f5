import { SealedSearchError } from '../errors.js'
import type { IssueType } from '../fhir/outcome.js'

export type SearchErrorCode =
  | 'ERR_IDENTIFIER_MALFORMED'
  | 'ERR_IDENTIFIER_SYSTEM_UNSUPPORTED'
  | 'ERR_PLAINTEXT_IN_URL'
  | 'ERR_IDENTIFIER_INVALID'
  | 'ERR_IDENTIFIER_SYSTEM_NOT_ENABLED'
  | 'ERR_MULTIPLE_MATCHES'
  | 'ERR_DB_UNAVAILABLE'
  | 'ERR_KEYS_RING_STALE'

/**
 * A search that cannot be answered with results: a criterion refused, an ambiguous match, the
 * database out of reach. `issue` is the FHIR issue type; the HTTP layer picks the status by
 * `code`. Messages never hold the identifier searched for.
 */
export class SearchError extends SealedSearchError<SearchErrorCode> {
  constructor(
    code: SearchErrorCode,
    readonly issue: IssueType,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options)
    this.name = 'SearchError'
  }
}

export function isSearchError(error: unknown): error is SearchError {
  return error instanceof SearchError
}
