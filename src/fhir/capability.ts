import { SYSTEM } from './systems.js'

/** The CapabilityStatement: exactly the interactions and parameters this gateway serves. */
export function capabilityStatement(fhirBase: string, software: { name: string; version: string }) {
  return {
    resourceType: 'CapabilityStatement' as const,
    status: 'active' as const,
    date: '2026-11-23',
    publisher: 'sealed-search',
    kind: 'instance' as const,
    software,
    implementation: { description: 'Encrypted-identifier Patient search', url: fhirBase },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    rest: [
      {
        mode: 'server' as const,
        documentation:
          'Patient search by an encrypted MBI. Encrypt the MBI to a key from /.well-known/jwks.json ' +
          '(JWE compact, alg ECDH-ES or ECDH-ES+A256KW, enc A256GCM or A128GCM, kid required).',
        resource: [
          {
            type: 'Patient',
            profile: 'http://hl7.org/fhir/StructureDefinition/Patient',
            interaction: [{ code: 'search-type' as const }],
            searchParam: [
              {
                name: 'identifier',
                type: 'token' as const,
                documentation: `${SYSTEM.mbiEncrypted}|<JWE compact token>. The decrypted MBI is matched against current and historic MBIs. Plaintext ${SYSTEM.mbi} is not accepted in a URL.`,
              },
            ],
          },
        ],
      },
    ],
  }
}
