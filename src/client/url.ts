const ENCRYPTED_SYSTEM = 'https://bluebutton.cms.gov/resources/identifier/mbi-encrypted'

/** The search URL for a token: only ciphertext goes in it. */
export function patientSearchUrl(baseUrl: string, token: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/v2/fhir/Patient?identifier=${ENCRYPTED_SYSTEM}%7C${token}`
}
