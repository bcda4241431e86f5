import { DEFAULT_COUNT, MAX_COUNT } from './paging.js'
import { SYSTEM } from './systems.js'

/** The migration paths an operator has turned on (both off by default). */
export interface CapabilityFeatures {
  /** The legacy mbi-hash search is served until this date (then it is to be removed). */
  legacyHashSunset?: Date | undefined
  hicnSearch?: boolean | undefined
}

function identifierDocumentation(features: CapabilityFeatures): string {
  const lines = [
    `${SYSTEM.mbiEncrypted}|<token> (JWE compact or HPKE token, by GET or POST): the decrypted MBI is matched against current and historic MBIs.`,
    `${SYSTEM.mbi}|<MBI> (plaintext): POST /Patient/_search only; refused in a URL.`,
  ]
  if (features.hicnSearch) {
    lines.push(
      `${SYSTEM.hicnEncrypted}|<token>: an encrypted HICN (9 digits and a 1-2 character BIC), matched against the current HICN.`,
    )
  }
  if (features.legacyHashSunset) {
    lines.push(
      `${SYSTEM.mbiHash}|<64 hex digits>: deprecated, ends ${features.legacyHashSunset.toUTCString()} (Deprecation and Sunset headers).`,
    )
  }
  return lines.join(' ')
}

/** The CapabilityStatement: exactly the interactions and parameters this gateway serves. */
export function capabilityStatement(
  fhirBase: string,
  software: { name: string; version: string },
  features: CapabilityFeatures = {},
) {
  return {
    resourceType: 'CapabilityStatement' as const,
    status: 'active' as const,
    date: '2026-11-23',
    publisher: 'sealed-search',
    kind: 'instance' as const,
    software,
    implementation: { description: 'Encrypted-identifier Patient search', url: fhirBase },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'application/json', 'json'],
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
            supportedProfile: ['http://hl7.org/fhir/us/carin-bb/StructureDefinition/C4BB-Patient'],
            interaction: [
              { code: 'read' as const, documentation: 'GET /Patient/{bene_id}' },
              {
                code: 'search-type' as const,
                documentation:
                  'GET /Patient?..., or POST /Patient/_search with an application/x-www-form-urlencoded body. Links hold no plaintext identifier.',
              },
            ],
            searchParam: [
              {
                name: '_id',
                type: 'token' as const,
                documentation: 'The bene_id: a signed 64-bit integer.',
              },
              {
                name: 'identifier',
                type: 'token' as const,
                documentation: identifierDocumentation(features),
              },
              {
                name: '_lastUpdated',
                type: 'date' as const,
                documentation:
                  'When the Patient last changed: a date or dateTime with eq, gt, ge, lt or le, once or twice (both must hold); without a time zone, UTC.',
              },
              {
                name: '_count',
                type: 'number' as const,
                documentation: `Results per page: 0 (the total only) to ${MAX_COUNT}; default ${DEFAULT_COUNT}, larger values are lowered to ${MAX_COUNT}.`,
              },
              {
                name: 'startIndex',
                type: 'number' as const,
                documentation: 'Index of the first result on the page, from 0.',
              },
            ],
          },
        ],
      },
    ],
  }
}
