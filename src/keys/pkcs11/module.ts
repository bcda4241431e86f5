import { createRequire } from 'node:module'
import type * as Pkcs11js from 'pkcs11js'
import { KeyStoreError } from '../errors.js'

/**
 * pkcs11js is an optional dependency (a native addon, built by node-gyp at install): the default
 * set-up never loads it, and `npm ci` on a machine without a compiler still succeeds. It is
 * loaded the first time a PKCS#11 key is used, and its absence is a start-up error naming it.
 */
export type Pkcs11Lib = typeof Pkcs11js

let loaded: Pkcs11Lib | undefined

export function loadPkcs11js(): Pkcs11Lib {
  if (loaded) return loaded
  try {
    loaded = createRequire(import.meta.url)('pkcs11js') as Pkcs11Lib
  } catch (cause) {
    throw new KeyStoreError(
      'ERR_KEYS_HSM_UNAVAILABLE',
      'PKCS#11 keys need the optional package pkcs11js (npm install pkcs11js; it builds with node-gyp)',
      { cause },
    )
  }
  return loaded
}

/** PKCS#11 3.0 identifiers pkcs11js 2 does not name. */
export const CKM_EC_MONTGOMERY_KEY_PAIR_GEN = 0x1056
export const CKK_EC_MONTGOMERY = 0x41

/** DER of the curve OIDs for CKA_EC_PARAMS: prime256v1 (RFC 5480), id-X25519 (RFC 8410). */
export const EC_PARAMS = {
  'P-256': Buffer.from('06082a8648ce3d030107', 'hex'),
  X25519: Buffer.from('06032b656e', 'hex'),
} as const

/** The CKR_ name of a pkcs11js error, for logs and doctor (never key material). */
export function ckr(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  return /CKR_[A-Z_]+/.exec(message)?.[0] ?? message.slice(0, 80)
}
