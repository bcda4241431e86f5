import { syntheticHicn, type Hicn } from '../identifiers/hicn.js'
import { syntheticMbi } from '../identifiers/synthetic.js'
import type { Mbi } from '../identifiers/mbi.js'
import type { Sql } from './sql.js'

/**
 * Synthetic beneficiaries, as BFD's synthetic data has them: negative bene_ids and MBIs with `S`
 * in position 2. Everything is a pure function of the row index, so a test can compute what any
 * seeded row holds without reading it back.
 */

export const SYNTHETIC_BENE_ID_BASE = -10_000_000_000
const HISTORY_INDEX_OFFSET = 1_000_000_000
/** Every HISTORY_EVERY-th beneficiary has one earlier MBI in beneficiaries_history. */
export const HISTORY_EVERY = 5

/** The MBI two beneficiaries share (one now, one in its history): searches for it are ambiguous. */
export const AMBIGUOUS_MBI = syntheticMbi(2_000_000_000)
export const AMBIGUOUS_BENE_IDS = ['-9999999001', '-9999999002'] as const

export function seededBeneId(index: number): string {
  return String(SYNTHETIC_BENE_ID_BASE - index)
}
export function seededMbi(index: number): Mbi {
  return syntheticMbi(index)
}
/** Every HICN_NONE_EVERY-th beneficiary (index 6, 13, ...) has no HICN, like post-2018 enrollees. */
export const HICN_NONE_EVERY = 7
/** The HICN two beneficiaries share (the ambiguous pair): an encrypted HICN search for it is 409. */
export const AMBIGUOUS_HICN = '900000000W' as Hicn

/** The synthetic HICN (`hicn_unhashed`) of beneficiary `index`, or undefined when it has none. */
export function seededHicn(index: number): Hicn | undefined {
  return index % HICN_NONE_EVERY === HICN_NONE_EVERY - 1 ? undefined : syntheticHicn(index)
}

/** The earlier MBI of beneficiary `index`, or undefined when it has none. */
export function seededHistoricMbi(index: number): Mbi | undefined {
  return index % HISTORY_EVERY === 0 ? syntheticMbi(HISTORY_INDEX_OFFSET + index) : undefined
}

const FAMILY = ['Doe', 'Smith', 'Garcia', 'Nguyen', 'Johnson', 'Patel', 'Kim', 'Okafor', 'Rossi']
const GIVEN = ['Jane', 'John', 'Maria', 'Wei', 'Aisha', 'Carlos', 'Ingrid', 'Tomas', 'Leila']
const STATES = ['MD', 'VA', 'CA', 'TX', 'NY', 'FL', 'OH', 'WA', 'MO', 'PA']

function day(offset: number): string {
  return new Date(Date.UTC(1930, 0, 1) + offset * 86_400_000).toISOString().slice(0, 10)
}

interface BeneficiaryRow {
  bene_id: string
  mbi_num: string
  efctv_bgn_dt: string
  efctv_end_dt: string | null
  bene_srnm_name: string
  bene_gvn_name: string
  bene_mdl_name: string | null
  bene_birth_dt: string
  bene_sex_ident_cd: string
  state_code: string
  bene_zip_cd: string
  bene_death_dt: string | null
  hicn_unhashed: string | null
}

interface HistoryRow {
  bene_history_id: string
  bene_id: string
  mbi_num: string
  efctv_bgn_dt: string
  efctv_end_dt: string
}

function beneficiary(
  index: number,
  beneId: string,
  mbi: string,
  hicn: string | null = null,
): BeneficiaryRow {
  return {
    bene_id: beneId,
    mbi_num: mbi,
    efctv_bgn_dt: '2020-01-01',
    efctv_end_dt: null,
    bene_srnm_name: FAMILY[index % FAMILY.length]!,
    bene_gvn_name: GIVEN[(index >> 3) % GIVEN.length]!,
    bene_mdl_name: index % 3 === 0 ? null : String.fromCharCode(65 + (index % 26)),
    bene_birth_dt: day(index % 20_000),
    bene_sex_ident_cd: index % 2 === 0 ? '2' : '1',
    state_code: STATES[index % STATES.length]!,
    bene_zip_cd: String(10_000 + (index % 89_999)).padStart(5, '0'),
    bene_death_dt: index % 50 === 49 ? '2023-06-30' : null,
    hicn_unhashed: hicn,
  }
}

function history(beneId: string, mbi: string): HistoryRow {
  return {
    bene_history_id: beneId,
    bene_id: beneId,
    mbi_num: mbi,
    efctv_bgn_dt: '2015-04-01',
    efctv_end_dt: '2019-12-31',
  }
}

export interface SeedOptions {
  count: number
  batchSize?: number
  onProgress?: (done: number, total: number) => void
}

/** Inserts `count` synthetic beneficiaries plus the ambiguous pair; rows already there are kept. */
export async function seed(sql: Sql, options: SeedOptions): Promise<void> {
  const { count, batchSize = 2000, onProgress } = options
  for (let start = 0; start < count; start += batchSize) {
    const end = Math.min(count, start + batchSize)
    const benes: BeneficiaryRow[] = []
    const hist: HistoryRow[] = []
    for (let i = start; i < end; i++) {
      const id = seededBeneId(i)
      benes.push(beneficiary(i, id, seededMbi(i), seededHicn(i) ?? null))
      const old = seededHistoricMbi(i)
      if (old) hist.push(history(id, old))
    }
    await sql.begin(async (tx) => {
      // A row already present keeps every column, except that a missing HICN is filled in
      // (rows seeded before migration 003 added hicn_unhashed).
      await tx`insert into beneficiaries ${tx(benes)}
        on conflict (bene_id) do update set hicn_unhashed = excluded.hicn_unhashed
        where beneficiaries.hicn_unhashed is null`
      if (hist.length)
        await tx`insert into beneficiaries_history ${tx(hist)} on conflict do nothing`
    })
    onProgress?.(end, count)
  }
  const [first, second] = AMBIGUOUS_BENE_IDS
  await sql.begin(async (tx) => {
    await tx`insert into beneficiaries ${tx([
      beneficiary(1, first, AMBIGUOUS_MBI, AMBIGUOUS_HICN),
      beneficiary(2, second, syntheticMbi(2_000_000_001), AMBIGUOUS_HICN),
    ])} on conflict (bene_id) do update set hicn_unhashed = excluded.hicn_unhashed
        where beneficiaries.hicn_unhashed is null`
    await tx`insert into beneficiaries_history ${tx([
      history(second, AMBIGUOUS_MBI),
    ])} on conflict do nothing`
  })
}
