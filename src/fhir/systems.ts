/** Identifier systems and code systems, spelled as BFD spells them. */
export const SYSTEM = {
  beneId: 'https://bluebutton.cms.gov/resources/variables/bene_id',
  mbi: 'http://hl7.org/fhir/sid/us-mbi',
  mbiEncrypted: 'https://bluebutton.cms.gov/resources/identifier/mbi-encrypted',
  mbiHash: 'https://bluebutton.cms.gov/resources/identifier/mbi-hash',
  hicnEncrypted: 'https://bluebutton.cms.gov/resources/identifier/hicn-encrypted',
  identifierCurrency: 'https://bluebutton.cms.gov/resources/codesystem/identifier-currency',
  identifierType: 'http://terminology.hl7.org/CodeSystem/v2-0203',
} as const

export const FHIR_JSON = 'application/fhir+json; charset=utf-8'

/** Profiles and extension definitions BFD's v2 Patient names. */
export const PROFILE = {
  c4bbPatient: 'http://hl7.org/fhir/us/carin-bb/StructureDefinition/C4BB-Patient',
  usCoreSex: 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-sex',
  usCoreRace: 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-race',
} as const
