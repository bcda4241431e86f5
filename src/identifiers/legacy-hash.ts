import { pbkdf2 } from 'node:crypto'
import { promisify } from 'node:util'

const pbkdf2Async = promisify(pbkdf2)

/** Output length of a legacy hash: 256 bits, written as 64 lower-case hex digits. */
export const LEGACY_HASH_BYTES = 32

/** The shape of a legacy hash as it appears in a search: 64 hex digits (any case). */
export const LEGACY_HASH_PATTERN = /^[0-9a-fA-F]{64}$/

/**
 * BFD's legacy identifier hash: PBKDF2-HMAC-SHA256 (RFC 8018 §5.2) with the identifier's
 * characters as the password and the pepper bytes as the salt, 256 bits, lower-case hex. This
 * is what BFD's `PBKDF2WithHmacSHA256` computed (test/vectors/bfd-mbi-hash.json). Runs on
 * node's thread pool: many calls in flight hash in parallel.
 */
export async function legacyIdentifierHash(
  identifier: string,
  pepper: Uint8Array,
  iterations: number,
): Promise<string> {
  const key = await pbkdf2Async(identifier, pepper, iterations, LEGACY_HASH_BYTES, 'sha256')
  return key.toString('hex')
}

/**
 * A string that is no identifier, hashed to record which pepper and iteration count a table was
 * filled with (a check value: it tells whether a second run uses the same parameters).
 */
export const LEGACY_HASH_CHECK_INPUT = 'sealed-search legacy-hash check value'
