import { syntheticHicn, type Hicn } from '../identifiers/hicn.js'
import { syntheticMbi } from '../identifiers/synthetic.js'
import type { Mbi } from '../identifiers/mbi.js'
import { once } from 'node:events'
import { finished } from 'node:stream/promises'
import type postgres from 'postgres'
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
/** A city in each of STATES, in the same order (the mailing address agrees with the state). */
const CITIES = [
  'BALTIMORE',
  'RICHMOND',
  'FRESNO',
  'AUSTIN',
  'ALBANY',
  'TAMPA',
  'DAYTON',
  'SPOKANE',
  'JOPLIN',
  'ERIE',
]
const STREETS = ['MAIN ST', 'OAK AVE', 'ELM ST', 'PARK RD', 'CEDAR LN', 'MAPLE DR', 'HILL ST']
/** Monthly dual status patterns: mostly non-dual, some full duals, some partial, one that changes. */
const DUALS = ['NA', '**', 'NA', '02', 'NA', '01', 'NA', '08', '00', 'NA', '04']
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sept', 'oct', 'nov', 'dec']
/** Every REFERENCE_YEAR_NONE_EVERY-th beneficiary has no enrollment year (so no dual codes). */
export const REFERENCE_YEAR_NONE_EVERY = 11

/**
 * The BFD Patient columns of beneficiary `index` (migration 005): race, enrollment reference
 * year, the twelve monthly dual status codes and the mailing address, all synthetic.
 */
export function seededEnrollment(index: number) {
  const year =
    index % REFERENCE_YEAR_NONE_EVERY === REFERENCE_YEAR_NONE_EVERY - 1 ? null : 2019 + (index % 5)
  const dual = DUALS[index % DUALS.length]!
  const row: Record<string, string | number | null> = {
    bene_race_cd: String(index % 7),
    rfrnc_yr: year,
    drvd_line_1_adr: `${100 + (index % 9_900)} ${STREETS[index % STREETS.length]!}`,
    drvd_line_2_adr: index % 4 === 0 ? `APT ${1 + (index % 40)}` : null,
    drvd_line_3_adr: null,
    drvd_line_4_adr: null,
    drvd_line_5_adr: null,
    drvd_line_6_adr: null,
    city_name: CITIES[index % CITIES.length]!,
  }
  // A beneficiary who becomes dual mid-year (index 8, 19, ...): not enrolled, then Non-Medicaid.
  MONTHS.forEach((month, m) => {
    row[`meta_dual_elgbl_stus_${month}_cd`] =
      year === null ? null : dual === '00' && m >= 6 ? 'NA' : dual
  })
  return row
}

const DAYS: string[] = []
/** The date `offset` days after 1930-01-01, as YYYY-MM-DD (computed once per offset). */
function day(offset: number): string {
  return (DAYS[offset] ??= new Date(Date.UTC(1930, 0, 1) + offset * 86_400_000)
    .toISOString()
    .slice(0, 10))
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
  [column: string]: string | number | null
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
    ...seededEnrollment(index),
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
  /** Rows per transaction (default 50,000); each batch commits on its own, so a rerun resumes. */
  batchSize?: number
  onProgress?: (done: number, total: number) => void
}

/** The rows of beneficiaries `start` to `end - 1`, with the history rows of those that have one. */
function rowsOf(start: number, end: number) {
  const benes: BeneficiaryRow[] = []
  const hist: HistoryRow[] = []
  for (let i = start; i < end; i++) {
    const id = seededBeneId(i)
    benes.push(beneficiary(i, id, seededMbi(i), seededHicn(i) ?? null))
    const old = seededHistoricMbi(i)
    if (old) hist.push(history(id, old))
  }
  return { benes, hist }
}

// The column lists come from the row builders above: a column added there is loaded by both
// the COPY path and the insert path.
const BENEFICIARY_COLUMNS = Object.keys(beneficiary(0, '0', '')) as (keyof BeneficiaryRow)[]
const HISTORY_COLUMNS = Object.keys(history('0', '')) as (keyof HistoryRow)[]

/** One line of COPY's text format; seeded values hold no tab, newline or backslash. */
function copyLine<R extends object>(row: R, columns: readonly (keyof R)[]): string {
  return columns.map((c) => (row[c] === null ? '\\N' : String(row[c]))).join('\t') + '\n'
}

/** Streams `rows` into `table` with COPY FROM STDIN, honouring the stream's back-pressure. */
async function copyRows<R extends object>(
  tx: postgres.TransactionSql,
  table: string,
  columns: readonly (keyof R)[],
  rows: R[],
): Promise<void> {
  const names = columns.map(String)
  const stream = await tx`copy ${tx(table)} (${tx(names)}) from stdin`.writable()
  const LINES_PER_WRITE = 1000
  for (let i = 0; i < rows.length; i += LINES_PER_WRITE) {
    let text = ''
    for (const row of rows.slice(i, i + LINES_PER_WRITE)) text += copyLine(row, columns)
    if (!stream.write(text)) await once(stream, 'drain')
  }
  stream.end()
  await finished(stream)
}

/** Whether any seeded beneficiary from `start` to `end - 1` is present (one index range scan). */
async function anyPresent(sql: Sql, start: number, end: number): Promise<boolean> {
  const [row] = await sql<{ found: boolean }[]>`
    select exists (
      select 1 from beneficiaries
      where bene_id between ${seededBeneId(end - 1)}::bigint and ${seededBeneId(start)}::bigint
    ) as found`
  return row?.found ?? false
}

/**
 * Inserts rows one statement per 2,000, keeping those already present, except that a missing
 * HICN is filled in (rows seeded before migration 003 added hicn_unhashed).
 */
async function insertRows(tx: postgres.TransactionSql, start: number, end: number) {
  for (let s = start; s < end; s += 2000) {
    const { benes, hist } = rowsOf(s, Math.min(end, s + 2000))
    await tx`insert into beneficiaries ${tx(benes)}
      on conflict (bene_id) do update set hicn_unhashed = excluded.hicn_unhashed
      where beneficiaries.hicn_unhashed is null`
    if (hist.length) await tx`insert into beneficiaries_history ${tx(hist)} on conflict do nothing`
  }
}

/** The embedded database (PGlite) does not carry COPY over its wire-protocol socket. */
async function copySupported(sql: Sql): Promise<boolean> {
  const [row] = await sql<{ pglite: boolean }[]>`select version() like '%PGlite%' as pglite`
  return !row?.pglite
}

/**
 * Inserts `count` synthetic beneficiaries plus the ambiguous pair; rows already there are kept.
 * A batch none of whose rows exist is loaded with COPY (the fast path: a fresh or resumed
 * load); a batch that holds some of them, or any batch on the embedded database, goes through
 * INSERT ... ON CONFLICT.
 */
export async function seed(sql: Sql, options: SeedOptions): Promise<void> {
  const { count, batchSize = 50_000, onProgress } = options
  const copy = await copySupported(sql)
  let next = 0
  let done = 0
  // Two loaders on two connections: one builds its rows while the server takes the other's.
  const loader = async () => {
    for (let start = next; start < count; start = next) {
      next = start + batchSize
      const end = Math.min(count, next)
      const fresh = copy && !(await anyPresent(sql, start, end))
      await sql.begin(async (tx) => {
        if (!fresh) return insertRows(tx, start, end)
        const { benes, hist } = rowsOf(start, end)
        await copyRows(tx, 'beneficiaries', BENEFICIARY_COLUMNS, benes)
        if (hist.length) await copyRows(tx, 'beneficiaries_history', HISTORY_COLUMNS, hist)
      })
      done += end - start
      onProgress?.(done, count)
    }
  }
  await Promise.all(copy ? [loader(), loader()] : [loader()])
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
