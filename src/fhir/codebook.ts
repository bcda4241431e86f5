/**
 * The codes BFD's v2 Patient carries in its extensions, with the displays BFD gives them (from
 * the CCW codebook that BFD's `CcwCodebookVariable` is generated from).
 */

/** `https://bluebutton.cms.gov/resources/variables/<name>`: BFD's extension url and code system. */
export const BFD_VARIABLES = 'https://bluebutton.cms.gov/resources/variables'

/** BENE_RACE_CD (CCW codebook "race"). */
export const RACE: Readonly<Record<string, string>> = {
  '0': 'Unknown',
  '1': 'White',
  '2': 'Black',
  '3': 'Other',
  '4': 'Asian',
  '5': 'Hispanic',
  '6': 'North American Native',
}

/** DUAL_01 to DUAL_12: the monthly Medicare-Medicaid dual eligibility status code. */
export const DUAL_STATUS: Readonly<Record<string, string>> = {
  NA: 'Non-Medicaid',
  '00': 'Not enrolled in Medicare for the month',
  '01': 'Qualified Medicare Beneficiary (QMB)-only',
  '02': 'QMB and full Medicaid coverage, including prescription drugs',
  '03': 'Specified Low-Income Medicare Beneficiary (SLMB)-only',
  '04': 'SLMB and full Medicaid coverage, including prescription drugs',
  '05': 'Qualified Disabled Working Individual (QDWI)',
  '06': 'Qualifying individuals (QI)',
  '08': 'Other dual eligible (not QMB, SLMB, QWDI, or QI) with full Medicaid coverage, including prescription Drugs',
  '09': 'Other dual eligible, but without Medicaid coverage',
  '99': 'Unknown',
  '**': "Enrolled in Medicare A and/or B, but no Part D enrollment data for the beneficiary. (This status was indicated as 'XX' for 2006-2009)",
}

/** US Core `us-core-sex` (STU 7): SNOMED CT codes for BENE_SEX_IDENT_CD 1 and 2. */
export const US_CORE_SEX: Readonly<Record<string, string>> = {
  '1': '248153007', // male
  '2': '248152002', // female
}
