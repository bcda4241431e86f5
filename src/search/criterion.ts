import { SYSTEM } from '../fhir/systems.js'
import { LEGACY_HASH_PATTERN } from '../identifiers/legacy-hash.js'
import { normalizeMbi, type Mbi } from '../identifiers/mbi.js'
import { SearchError } from './errors.js'

/** Longest `identifier` value looked at: system, `|`, and a token at the cap. */
export const MAX_IDENTIFIER_LENGTH = 2048

/** The identifier a search names, by system; only the `us-mbi` form holds plaintext. */
export type IdentifierCriterion =
  | { system: 'mbi-encrypted'; token: string }
  | { system: 'hicn-encrypted'; token: string }
  | { system: 'mbi-hash'; hash: string }
  | { system: 'us-mbi'; mbi: Mbi }

/** Where the parameter came from: a URL (GET) never may carry a plaintext identifier. */
export type ParameterSource = 'url' | 'body'

function unsupportedSystem(): SearchError {
  return new SearchError(
    'ERR_IDENTIFIER_SYSTEM_UNSUPPORTED',
    'not-supported',
    `unsupported identifier system: use ${SYSTEM.mbiEncrypted}`,
  )
}

/**
 * Splits a FHIR token search value `system|value` (the `|` raw or as %7C; the caller has
 * already percent-decoded it) by system. Never echoes the value. A plaintext MBI
 * (`http://hl7.org/fhir/sid/us-mbi`) is accepted only from a POST body, as BFD does.
 */
export function parseIdentifier(value: string, source: ParameterSource): IdentifierCriterion {
  if (value.length > MAX_IDENTIFIER_LENGTH) {
    throw new SearchError('ERR_IDENTIFIER_MALFORMED', 'too-long', 'identifier is too long')
  }
  const bar = value.indexOf('|')
  if (bar < 0) {
    throw new SearchError(
      'ERR_IDENTIFIER_MALFORMED',
      'invalid',
      `identifier must be ${SYSTEM.mbiEncrypted}|<token>`,
    )
  }
  const system = value.slice(0, bar)
  const rest = value.slice(bar + 1)
  switch (system) {
    case SYSTEM.mbiEncrypted:
      return { system: 'mbi-encrypted', token: rest }
    case SYSTEM.hicnEncrypted:
      return { system: 'hicn-encrypted', token: rest }
    case SYSTEM.mbiHash:
      if (!LEGACY_HASH_PATTERN.test(rest)) {
        throw new SearchError(
          'ERR_IDENTIFIER_MALFORMED',
          'invalid',
          'an mbi-hash identifier is 64 hexadecimal digits',
        )
      }
      return { system: 'mbi-hash', hash: rest.toLowerCase() }
    case SYSTEM.mbi: {
      if (source === 'url') {
        throw new SearchError(
          'ERR_PLAINTEXT_IN_URL',
          'not-supported',
          'Search by plaintext MBI is only supported in POST; in a URL, send the encrypted identifier',
        )
      }
      const mbi = normalizeMbi(rest)
      if (!mbi) throw new SearchError('ERR_IDENTIFIER_INVALID', 'invalid', 'not a well-formed MBI')
      return { system: 'us-mbi', mbi }
    }
    default:
      throw unsupportedSystem()
  }
}
