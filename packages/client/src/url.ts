import type { IdentifierKind } from './payload.js'

/** The identifier systems of the gateway's encrypted searches, spelled as BFD spells them. */
export const ENCRYPTED_SYSTEMS: Readonly<Record<IdentifierKind, string>> = {
  mbi: 'https://bluebutton.cms.gov/resources/identifier/mbi-encrypted',
  hicn: 'https://bluebutton.cms.gov/resources/identifier/hicn-encrypted',
}

/**
 * The search URL for a token: only ciphertext goes in it. `kind` names the identifier the token
 * holds (default `mbi`); a HICN token searches the `hicn-encrypted` system.
 */
export function patientSearchUrl(
  baseUrl: string,
  token: string,
  kind: IdentifierKind = 'mbi',
): string {
  const system = ENCRYPTED_SYSTEMS[kind]
  return `${baseUrl.replace(/\/+$/, '')}/v2/fhir/Patient?identifier=${system}%7C${token}`
}
