import { SealedSearchError } from '../errors.js'

export type KeyStoreErrorCode =
  | 'ERR_KEYS_MANIFEST_INVALID'
  | 'ERR_KEYS_MANIFEST_MISSING'
  | 'ERR_KEYS_DIR_MISSING'
  | 'ERR_KEYS_FILE_MISSING'
  | 'ERR_KEYS_FILE_PERMISSIONS'
  | 'ERR_KEYS_FILE_INVALID'
  | 'ERR_KEYS_KID_MISMATCH'
  | 'ERR_KEYS_UNKNOWN_KID'
  | 'ERR_KEYS_NONE_ACTIVE'
  | 'ERR_KEYS_UNSUPPORTED_CURVE'
  | 'ERR_KEYS_PASSPHRASE'
  | 'ERR_KEYS_SEAL_INVALID'
  | 'ERR_KEYS_SEAL_PARAMETERS'
  | 'ERR_KEYS_SEALING_MIXED'
  | 'ERR_KEYS_STATE'
  | 'ERR_KEYS_HPKE_KEY_ID_EXHAUSTED'
  | 'ERR_KEYS_LOCKED'
  | 'ERR_KEYS_STORE_UNAVAILABLE'
  /** A stored entry the ring leaves out (malformed, a time that does not parse, a duplicate id). */
  | 'ERR_KEYS_ENTRY_INVALID'
  /** KEYS_PASSPHRASE does not match the ring's check value (stores/ring-mac.ts). */
  | 'ERR_KEYS_PASSPHRASE_WRONG'
  /** The ring's MAC does not match its entries: changed outside the custodian commands. */
  | 'ERR_KEYS_RING_MAC'
  /** A passphrase is set and the stored ring carries no MAC. */
  | 'ERR_KEYS_RING_UNAUTHENTICATED'
  /** The ring's generation is lower than one this instance has applied. */
  | 'ERR_KEYS_RING_ROLLBACK'
  /** The PKCS#11 library, token or login cannot be used (or pkcs11js is not installed). */
  | 'ERR_KEYS_HSM_UNAVAILABLE'
  /** The manifest lists a PKCS#11 key but no PKCS11_MODULE/TOKEN_LABEL/PIN is configured. */
  | 'ERR_KEYS_HSM_UNCONFIGURED'
  /** The token does not hold the key the manifest names, or holds it twice, or another one. */
  | 'ERR_KEYS_HSM_KEY'
  /**
   * The token refused the PIN (CKR_PIN_INCORRECT, _LOCKED, _EXPIRED): no login is tried again
   * until the PIN changes or SIGHUP, so retries never lock the token.
   */
  | 'ERR_KEYS_HSM_PIN_REFUSED'
  /** The token cannot generate or derive on this curve (e.g. X25519 without EC_MONTGOMERY). */
  | 'ERR_KEYS_HSM_CURVE_UNSUPPORTED'

/** A problem with the key directory: raised at start-up or by the key scripts, never per request. */
export class KeyStoreError extends SealedSearchError<KeyStoreErrorCode> {
  constructor(code: KeyStoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
    this.name = 'KeyStoreError'
  }
}
