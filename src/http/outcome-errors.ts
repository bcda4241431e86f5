import { HTTPException } from 'hono/http-exception'
import { isTokenError, type TokenErrorCode } from '../crypto/errors.js'
import { isKeyUnavailable } from '../keys/ring/agreement.js'
import type { IssueType } from '../fhir/outcome.js'
import { isSearchError, type SearchErrorCode } from '../search/index.js'
import { HttpError } from './errors.js'

const TOKEN_ISSUE: Partial<Record<TokenErrorCode, IssueType>> = {
  ERR_TOKEN_TOO_LONG: 'too-long',
  ERR_TOKEN_FORMAT_UNSUPPORTED: 'not-supported',
  ERR_TOKEN_ALG_UNSUPPORTED: 'not-supported',
  ERR_TOKEN_ENC_UNSUPPORTED: 'not-supported',
  ERR_TOKEN_HEADER_UNSUPPORTED: 'not-supported',
  ERR_TOKEN_SUITE_UNSUPPORTED: 'not-supported',
  ERR_TOKEN_KEM_MISMATCH: 'not-supported',
  ERR_TOKEN_EXPIRED: 'expired',
  ERR_TOKEN_SENDER_MISMATCH: 'security',
  ERR_TOKEN_BINDING_REQUIRED: 'security',
  ERR_TOKEN_PQ_REQUIRED: 'not-supported',
}

/** Sender binding refusals are about who asks, not what: 403 (RFC 9110 §15.5.4). Else 400. */
const TOKEN_STATUS: Partial<Record<TokenErrorCode, 403>> = {
  ERR_TOKEN_SENDER_MISMATCH: 403,
  ERR_TOKEN_BINDING_REQUIRED: 403,
}

/** The HTTP status of each way a search fails; the FHIR issue type comes with the error. */
const SEARCH_STATUS: Record<SearchErrorCode, 400 | 409 | 503> = {
  ERR_IDENTIFIER_MALFORMED: 400,
  ERR_IDENTIFIER_SYSTEM_UNSUPPORTED: 400,
  ERR_PLAINTEXT_IN_URL: 400,
  ERR_IDENTIFIER_INVALID: 400,
  ERR_IDENTIFIER_SYSTEM_NOT_ENABLED: 400,
  ERR_MULTIPLE_MATCHES: 409,
  ERR_DB_UNAVAILABLE: 503,
  ERR_KEYS_RING_STALE: 503,
}

export interface Classified {
  error: HttpError
  /** The stable code of the error that caused it, for logs and metrics. */
  cause: string
  /** True when the gateway, not the client, is at fault: worth a log line with detail. */
  unexpected: boolean
}

/** Turns anything thrown while serving a request into the error the client sees. */
export function classify(err: unknown): Classified {
  if (err instanceof HttpError) return { error: err, cause: err.code, unexpected: false }
  if (isTokenError(err)) {
    const issue = TOKEN_ISSUE[err.code] ?? 'invalid'
    // The message is fixed per code and holds no part of the token. A retired or revoked key
    // answers exactly as an unknown one: the key's state is not disclosed.
    const wire = err.code === 'ERR_TOKEN_KEY_NOT_ACCEPTED' ? 'ERR_TOKEN_KID_UNKNOWN' : err.code
    return {
      error: new HttpError(TOKEN_STATUS[err.code] ?? 400, issue, wire, err.message),
      cause: err.code,
      unexpected: false,
    }
  }
  if (isSearchError(err)) {
    const status = SEARCH_STATUS[err.code]
    // A database out of reach, a key ring too stale to decrypt with: the client may retry shortly.
    const headers: Record<string, string> = status === 503 ? { 'Retry-After': '5' } : {}
    return {
      error: new HttpError(status, err.issue, err.code, err.message, headers),
      cause: err.code,
      unexpected: false,
    }
  }
  if (isKeyUnavailable(err)) {
    // A PKCS#11 token (or another key store) that cannot compute now: retry, like a database.
    return {
      error: new HttpError(
        503,
        'transient',
        'ERR_KEY_UNAVAILABLE',
        'the decryption key is unavailable; retry later',
        { 'Retry-After': '5' },
      ),
      cause: 'ERR_KEY_UNAVAILABLE',
      unexpected: true,
    }
  }
  if (err instanceof HTTPException) {
    const status = err.status
    return {
      error: new HttpError(
        status,
        status === 413 ? 'too-long' : 'invalid',
        'ERR_INTERNAL',
        'request refused',
      ),
      cause: `HTTP_${status}`,
      unexpected: false,
    }
  }
  return {
    error: new HttpError(500, 'exception', 'ERR_INTERNAL', 'internal error'),
    cause: 'ERR_INTERNAL',
    unexpected: true,
  }
}
