/**
 * RFC 9180 §5 names the errors an HPKE implementation raises; these codes are those names.
 * They stay inside the HPKE layer: the token layer turns every one of them into its uniform
 * ERR_TOKEN_DECRYPTION_FAILED, so no caller learns which step failed.
 */
import { SealedSearchError } from '../../errors.js'

export type HpkeErrorCode =
  | 'ERR_HPKE_SUITE_UNSUPPORTED'
  | 'ERR_HPKE_DESERIALIZE'
  | 'ERR_HPKE_VALIDATION'
  | 'ERR_HPKE_OPEN'
  | 'ERR_HPKE_MESSAGE_LIMIT'
  | 'ERR_HPKE_INPUT_LENGTH'

const MESSAGES: Record<HpkeErrorCode, string> = {
  ERR_HPKE_SUITE_UNSUPPORTED: 'unsupported HPKE KEM, KDF or AEAD',
  ERR_HPKE_DESERIALIZE: 'not a valid public key encoding for this KEM (DeserializeError)',
  ERR_HPKE_VALIDATION: 'key agreement produced an invalid shared secret (ValidationError)',
  ERR_HPKE_OPEN: 'ciphertext authentication failed (OpenError)',
  ERR_HPKE_MESSAGE_LIMIT: 'sequence number exhausted (MessageLimitReachedError)',
  ERR_HPKE_INPUT_LENGTH: 'input has the wrong length',
}

export class HpkeError extends SealedSearchError<HpkeErrorCode> {
  constructor(code: HpkeErrorCode, options?: { cause?: unknown }) {
    super(code, MESSAGES[code], options)
    this.name = 'HpkeError'
  }
}
