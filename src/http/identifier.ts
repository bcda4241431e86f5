import { SYSTEM } from '../fhir/systems.js'
import { HttpError } from './errors.js'

/** Longest `identifier` value looked at: system, `|`, and a token at the cap. */
export const MAX_IDENTIFIER_LENGTH = 2048

/**
 * Splits a FHIR token search value `system|value` (the `|` raw or as %7C; the framework has
 * already percent-decoded it) and returns the ciphertext. Never echoes the value.
 */
export function encryptedIdentifier(value: string): string {
  if (value.length > MAX_IDENTIFIER_LENGTH) {
    throw new HttpError(400, 'too-long', 'ERR_IDENTIFIER_MALFORMED', 'identifier is too long')
  }
  const bar = value.indexOf('|')
  if (bar < 0) {
    throw new HttpError(
      400,
      'invalid',
      'ERR_IDENTIFIER_MALFORMED',
      `identifier must be ${SYSTEM.mbiEncrypted}|<token>`,
    )
  }
  const system = value.slice(0, bar)
  if (system === SYSTEM.mbi) {
    throw new HttpError(
      400,
      'not-supported',
      'ERR_PLAINTEXT_IN_URL',
      'Search by plaintext MBI is only supported in POST; in a URL, send the encrypted identifier',
    )
  }
  if (system !== SYSTEM.mbiEncrypted) {
    throw new HttpError(
      400,
      'not-supported',
      'ERR_IDENTIFIER_SYSTEM_UNSUPPORTED',
      `unsupported identifier system: use ${SYSTEM.mbiEncrypted}`,
    )
  }
  return value.slice(bar + 1)
}
