import type { Beneficiary, MbiRecord } from '../db/beneficiaries.js'
import { BFD_VARIABLES, DUAL_STATUS, RACE, US_CORE_SEX } from './codebook.js'
import { PROFILE, SYSTEM } from './systems.js'

const GENDER: Record<string, 'male' | 'female' | 'unknown'> = { '1': 'male', '2': 'female' }

/** What a request may ask of the Patient's shape (BFD's request headers). */
export interface PatientOptions {
  /** `IncludeAddressFields: true`: the mailing address lines and city as well. */
  includeAddressFields?: boolean
}

function coding(system: string, code: string, display: string | undefined) {
  return { system, code, ...(display !== undefined ? { display } : {}) }
}

/** A BFD variable as an extension: url and code system are the variable's own url. */
function variable(name: string, code: string, display: string | undefined) {
  const url = `${BFD_VARIABLES}/${name}`
  return { url, valueCoding: coding(url, code, display) }
}

/**
 * An MBI identifier as BFD's v2 Patient has it: type `MC` with the currency extension inside
 * `type.coding[0]`; the current MBI has its effective period, a historic one none.
 */
function mbiIdentifier(record: MbiRecord, currency: 'current' | 'historic') {
  const period =
    currency === 'current' && (record.start || record.end)
      ? {
          ...(record.start ? { start: record.start } : {}),
          ...(record.end ? { end: record.end } : {}),
        }
      : undefined
  return {
    type: {
      coding: [
        {
          extension: [
            {
              url: SYSTEM.identifierCurrency,
              valueCoding: coding(
                SYSTEM.identifierCurrency,
                currency,
                currency === 'current' ? 'Current' : 'Historic',
              ),
            },
          ],
          ...coding(SYSTEM.identifierType, 'MC', "Patient's Medicare number"),
        },
      ],
    },
    system: SYSTEM.mbi,
    value: record.mbi,
    ...(period ? { period } : {}),
  }
}

/**
 * us-core-sex, BFD's race and us-core-race (always "unknown": BFD does not map the CCW race
 * code to an OMB category), and, when the enrollment reference year is known, `rfrnc_yr` and
 * the monthly dual status codes `dual_01`..`dual_12`, in BFD's order.
 */
function extensions(b: Beneficiary): object[] {
  const out: object[] = []
  const sex = US_CORE_SEX[b.sexCode]
  if (sex) out.push({ url: PROFILE.usCoreSex, valueCode: sex })
  if (b.raceCode) {
    out.push(variable('race', b.raceCode, RACE[b.raceCode]))
    out.push({
      url: PROFILE.usCoreRace,
      extension: [
        {
          url: 'ombCategory',
          valueCoding: coding(
            'http://terminology.hl7.org/CodeSystem/v3-NullFlavor',
            'UNK',
            'Unknown',
          ),
        },
        { url: 'text', valueString: 'Unknown' },
      ],
    })
  }
  if (b.referenceYear !== null) {
    out.push({ url: `${BFD_VARIABLES}/rfrnc_yr`, valueDate: String(b.referenceYear) })
    b.dualStatus.forEach((code, month) => {
      if (code)
        out.push(variable(`dual_${String(month + 1).padStart(2, '0')}`, code, DUAL_STATUS[code]))
    })
  }
  return out
}

function address(b: Beneficiary, options: PatientOptions) {
  const lines = options.includeAddressFields
    ? b.mailingAddress.lines.filter((l): l is string => Boolean(l))
    : []
  const city = options.includeAddressFields ? b.mailingAddress.city : null
  const a = {
    ...(lines.length ? { line: lines } : {}),
    ...(city ? { city } : {}),
    ...(b.stateCode ? { state: b.stateCode } : {}),
    ...(b.zip ? { postalCode: b.zip } : {}),
  }
  return Object.keys(a).length ? [a] : undefined
}

/** A FHIR R4 Patient shaped as BFD's v2 Patient (C4BB-Patient), element by element. */
export function toPatient(b: Beneficiary, options: PatientOptions = {}) {
  const identifiers: object[] = [
    {
      type: { coding: [coding(SYSTEM.identifierType, 'MB', 'Member Number')] },
      system: SYSTEM.beneId,
      value: b.beneId,
    },
  ]
  if (b.mbi) {
    identifiers.push(mbiIdentifier({ mbi: b.mbi, start: b.mbiStart, end: b.mbiEnd }, 'current'))
  }
  for (const h of b.historicMbis) identifiers.push(mbiIdentifier(h, 'historic'))
  const ext = extensions(b)
  const addr = address(b, options)
  return {
    resourceType: 'Patient' as const,
    id: b.beneId,
    meta: { lastUpdated: b.lastUpdated.toISOString(), profile: [PROFILE.c4bbPatient] },
    ...(ext.length ? { extension: ext } : {}),
    identifier: identifiers,
    name: [
      {
        use: 'usual',
        family: b.familyName,
        given: [b.givenName, ...(b.middleInitial ? [b.middleInitial] : [])],
      },
    ],
    gender: GENDER[b.sexCode] ?? 'unknown',
    birthDate: b.birthDate,
    ...(b.deathDate ? { deceasedDateTime: b.deathDate } : { deceasedBoolean: false }),
    ...(addr ? { address: addr } : {}),
  }
}

export type Patient = ReturnType<typeof toPatient>
