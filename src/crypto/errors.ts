import { SealedSearchError } from '../errors.js'

/**
 * Why a token was refused. Every code is a client error (HTTP 400). Codes before key agreement
 * may be specific; every failure after it is ERR_TOKEN_DECRYPTION_FAILED (RFC 7516 §11.5).
 */
export type TokenErrorCode =
  | 'ERR_TOKEN_TOO_LONG'
  | 'ERR_TOKEN_MALFORMED'
  | 'ERR_TOKEN_FORMAT_UNSUPPORTED'
  | 'ERR_TOKEN_ALG_UNSUPPORTED'
  | 'ERR_TOKEN_ENC_UNSUPPORTED'
  | 'ERR_TOKEN_HEADER_UNSUPPORTED'
  | 'ERR_TOKEN_SUITE_UNSUPPORTED'
  | 'ERR_TOKEN_KID_MISSING'
  | 'ERR_TOKEN_KID_UNKNOWN'
  | 'ERR_TOKEN_KEY_NOT_ACCEPTED'
  | 'ERR_TOKEN_EPK_INVALID'
  | 'ERR_TOKEN_KEM_MISMATCH'
  | 'ERR_TOKEN_DECRYPTION_FAILED'
  | 'ERR_TOKEN_CLAIMS_INVALID'
  | 'ERR_TOKEN_EXPIRED'
  | 'ERR_TOKEN_EXP_REQUIRED'
  | 'ERR_TOKEN_LIFETIME_TOO_LONG'
  | 'ERR_TOKEN_NOT_YET_VALID'
  | 'ERR_TOKEN_IDENTIFIER_INVALID'
  | 'ERR_TOKEN_SENDER_MISMATCH'
  | 'ERR_TOKEN_BINDING_REQUIRED'
  | 'ERR_TOKEN_PQ_REQUIRED'

const MESSAGES: Record<TokenErrorCode, string> = {
  ERR_TOKEN_TOO_LONG: 'identifier token is longer than the gateway accepts',
  ERR_TOKEN_MALFORMED: 'identifier token is malformed',
  ERR_TOKEN_FORMAT_UNSUPPORTED:
    'identifier token is not in a supported format (JWE compact, or HPKE token version 2)',
  ERR_TOKEN_ALG_UNSUPPORTED: 'unsupported alg: use ECDH-ES or ECDH-ES+A256KW',
  ERR_TOKEN_ENC_UNSUPPORTED: 'unsupported enc: use A256GCM or A128GCM',
  ERR_TOKEN_HEADER_UNSUPPORTED: 'unsupported JWE header parameter',
  ERR_TOKEN_SUITE_UNSUPPORTED:
    'unsupported HPKE suite: use DHKEM(P-256 or X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM',
  ERR_TOKEN_KID_MISSING: 'the JWE protected header must carry the kid of a published key',
  // Unknown, retired and revoked keys get the same answer: the key's state is not disclosed.
  ERR_TOKEN_KID_UNKNOWN: 'unknown kid: fetch the current JWKS from /.well-known/jwks.json',
  ERR_TOKEN_KEY_NOT_ACCEPTED: 'unknown kid: fetch the current JWKS from /.well-known/jwks.json',
  ERR_TOKEN_EPK_INVALID: 'the epk header does not fit the key named by kid',
  ERR_TOKEN_KEM_MISMATCH: 'the HPKE KEM does not fit the curve of the key named by the key id',
  ERR_TOKEN_DECRYPTION_FAILED: 'decryption failed',
  ERR_TOKEN_CLAIMS_INVALID:
    'the decrypted payload is not an identifier or a supported claims object for the identifier system',
  ERR_TOKEN_EXPIRED: 'identifier token has expired',
  ERR_TOKEN_EXP_REQUIRED:
    'this gateway requires the claims form {"mbi","iat","exp"} with an exp (replay window)',
  ERR_TOKEN_LIFETIME_TOO_LONG: 'identifier token lifetime (exp - iat) exceeds the replay window',
  ERR_TOKEN_NOT_YET_VALID: 'identifier token is issued in the future',
  // One message for every identifier system: an MBI, or a HICN on the hicn-encrypted system.
  ERR_TOKEN_IDENTIFIER_INVALID:
    'the decrypted identifier is not well-formed for the identifier system',
  // One answer for a wrong certificate, no certificate and plain HTTP; the expected one is
  // never named (a log reader replaying a URL learns nothing).
  ERR_TOKEN_SENDER_MISMATCH:
    'identifier token is bound to a client certificate that this connection did not present',
  ERR_TOKEN_BINDING_REQUIRED:
    'this gateway requires identifier tokens bound to the client certificate (x5t#S256)',
  ERR_TOKEN_PQ_REQUIRED:
    'this gateway requires hybrid post-quantum identifier tokens: HPKE to its X-Wing key (kty AKP in the JWKS)',
}

export class TokenError extends SealedSearchError<TokenErrorCode> {
  /**
   * Set when the token was sender-bound and failed for it: a JWE over the wrong connection, or a
   * bound HPKE token that did not open (for the binding metrics; the client sees only `code`).
   */
  readonly senderBound: boolean

  constructor(
    code: TokenErrorCode,
    options?: { cause?: unknown; detail?: string; senderBound?: boolean },
  ) {
    const message = options?.detail ? `${MESSAGES[code]} (${options.detail})` : MESSAGES[code]
    super(code, message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'TokenError'
    this.senderBound = options?.senderBound ?? code === 'ERR_TOKEN_SENDER_MISMATCH'
  }
}

export function isTokenError(error: unknown): error is TokenError {
  return error instanceof TokenError
}
