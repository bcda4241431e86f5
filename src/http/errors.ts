import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { TokenErrorCode } from '../crypto/errors.js'
import { SealedSearchError } from '../errors.js'
import type { IssueType } from '../fhir/outcome.js'

export type HttpErrorCode =
  | 'ERR_NOT_FOUND'
  | 'ERR_METHOD_NOT_ALLOWED'
  | 'ERR_PARAM_UNSUPPORTED'
  | 'ERR_PARAM_REPEATED'
  | 'ERR_PARAM_MISSING'
  | 'ERR_IDENTIFIER_MALFORMED'
  | 'ERR_IDENTIFIER_SYSTEM_UNSUPPORTED'
  | 'ERR_PLAINTEXT_IN_URL'
  | 'ERR_IDENTIFIER_INVALID'
  | 'ERR_IDENTIFIER_SYSTEM_NOT_ENABLED'
  | 'ERR_PARAM_INVALID'
  | 'ERR_ID_INVALID'
  | 'ERR_PATIENT_NOT_FOUND'
  | 'ERR_CONTENT_TYPE_UNSUPPORTED'
  | 'ERR_BODY_TOO_LARGE'
  | 'ERR_BODY_UNREADABLE'
  | 'ERR_MULTIPLE_MATCHES'
  | 'ERR_FORMAT_UNSUPPORTED'
  | 'ERR_HEADER_INVALID'
  | 'ERR_DB_UNAVAILABLE'
  | 'ERR_KEY_UNAVAILABLE'
  | 'ERR_CLIENT_NOT_ALLOWED'
  | 'ERR_URL_TOO_LONG'
  | 'ERR_TIMEOUT'
  | 'ERR_KEYS_RING_STALE'
  | 'ERR_KEYS_HSM_PIN_REFUSED'
  | 'ERR_INTERNAL'

/** An error that already knows its HTTP status and FHIR issue type. Handlers throw these. */
export class HttpError extends SealedSearchError<HttpErrorCode | TokenErrorCode> {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly issueType: IssueType,
    code: HttpErrorCode | TokenErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(code, message)
    this.name = 'HttpError'
  }
}
