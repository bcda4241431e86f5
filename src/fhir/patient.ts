import type { Beneficiary, MbiRecord } from '../db/beneficiaries.js'
import { SYSTEM } from './systems.js'

const GENDER: Record<string, 'male' | 'female' | 'unknown'> = { '1': 'male', '2': 'female' }

function period(start: string | null, end: string | null) {
  if (!start && !end) return undefined
  return { ...(start ? { start } : {}), ...(end ? { end } : {}) }
}

function mbiIdentifier(record: MbiRecord, currency: 'current' | 'historic') {
  const p = period(record.start, record.end)
  return {
    extension: [
      {
        url: SYSTEM.identifierCurrency,
        valueCoding: {
          system: SYSTEM.identifierCurrency,
          code: currency,
          display: currency === 'current' ? 'Current' : 'Historic',
        },
      },
    ],
    type: {
      coding: [{ system: SYSTEM.identifierType, code: 'MC', display: "Patient's Medicare number" }],
    },
    system: SYSTEM.mbi,
    value: record.mbi,
    ...(p ? { period: p } : {}),
  }
}

/** A FHIR R4 Patient shaped as BFD's v2 Patient resource. */
export function toPatient(b: Beneficiary) {
  const identifiers: object[] = [
    {
      type: {
        coding: [
          {
            system: 'http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBIdentifierType',
            code: 'pat',
            display: 'Patient internal identifier',
          },
        ],
      },
      system: SYSTEM.beneId,
      value: b.beneId,
    },
  ]
  if (b.mbi) {
    identifiers.push(mbiIdentifier({ mbi: b.mbi, start: b.mbiStart, end: b.mbiEnd }, 'current'))
  }
  for (const h of b.historicMbis) identifiers.push(mbiIdentifier(h, 'historic'))

  const given = [b.givenName, ...(b.middleInitial ? [b.middleInitial] : [])]
  const address = {
    ...(b.stateCode ? { state: b.stateCode } : {}),
    ...(b.zip ? { postalCode: b.zip } : {}),
  }
  return {
    resourceType: 'Patient' as const,
    id: b.beneId,
    meta: { lastUpdated: b.lastUpdated.toISOString() },
    identifier: identifiers,
    name: [{ use: 'usual', family: b.familyName, given }],
    gender: GENDER[b.sexCode] ?? 'unknown',
    birthDate: b.birthDate,
    ...(b.deathDate ? { deceasedDateTime: b.deathDate } : { deceasedBoolean: false }),
    ...(Object.keys(address).length ? { address: [address] } : {}),
  }
}

export type Patient = ReturnType<typeof toPatient>
