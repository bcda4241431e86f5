import type postgres from 'postgres'
import type { Hicn } from '../identifiers/hicn.js'
import type { Mbi } from '../identifiers/mbi.js'
import type { Sql } from './sql.js'

export interface MbiRecord {
  mbi: string
  start: string | null
  end: string | null
}

export interface Beneficiary {
  beneId: string
  mbi: string | null
  mbiStart: string | null
  mbiEnd: string | null
  familyName: string
  givenName: string
  middleInitial: string | null
  birthDate: string
  sexCode: string
  stateCode: string | null
  zip: string | null
  deathDate: string | null
  /** The newest `last_updated` of the row and of its history rows. */
  lastUpdated: Date
  /** Earlier MBIs from beneficiaries_history, excluding the current one, oldest first. */
  historicMbis: MbiRecord[]
  /** BENE_RACE_CD, or null. */
  raceCode: string | null
  /** The enrollment reference year (RFRNC_YR), or null. */
  referenceYear: number | null
  /** The monthly dual eligibility status codes, January first (twelve, each possibly null). */
  dualStatus: (string | null)[]
  /** BFD's derived mailing address: six lines and the city, each possibly null. */
  mailingAddress: { lines: (string | null)[]; city: string | null }
}

export type MbiMatch =
  | { kind: 'none' }
  | { kind: 'one'; beneficiary: Beneficiary }
  | { kind: 'ambiguous'; count: number }

interface Row {
  bene_id: string
  mbi_num: string | null
  efctv_bgn_dt: string | null
  efctv_end_dt: string | null
  bene_srnm_name: string
  bene_gvn_name: string
  bene_mdl_name: string | null
  bene_birth_dt: string
  bene_sex_ident_cd: string
  state_code: string | null
  bene_zip_cd: string | null
  bene_death_dt: string | null
  last_updated: Date
  history: MbiRecord[]
  matches: number
  bene_race_cd: string | null
  rfrnc_yr: number | null
  duals: (string | null)[]
  lines: (string | null)[]
  city_name: string | null
}

/**
 * Finds the beneficiary whose current or historical MBI equals `mbi`, exactly. When the MBI
 * belongs to more than one distinct bene_id, says so and returns none of them: never pick one.
 */
export function findByMbi(sql: Sql, mbi: Mbi): Promise<MbiMatch> {
  return matchBeneficiaries(
    sql,
    sql`select bene_id from beneficiaries where mbi_num = ${mbi}
        union
        select bene_id from beneficiaries_history where mbi_num = ${mbi}`,
  )
}

/** The beneficiary whose `hicn_unhashed` equals `hicn`, exactly; ambiguous as for an MBI. */
export function findByHicn(sql: Sql, hicn: Hicn): Promise<MbiMatch> {
  return matchBeneficiaries(
    sql,
    sql`select bene_id from beneficiaries where hicn_unhashed = ${hicn}`,
  )
}

/** The beneficiary with this bene_id (a signed 64-bit integer, as a decimal string). */
export async function findById(sql: Sql, beneId: string): Promise<Beneficiary | undefined> {
  const match = await matchBeneficiaries(
    sql,
    sql`select bene_id from beneficiaries where bene_id = ${beneId}::bigint`,
  )
  return match.kind === 'one' ? match.beneficiary : undefined
}

/**
 * The one beneficiary among the distinct `bene_id`s the query `ids` selects, with its MBI
 * history; or none; or "ambiguous" when `ids` selects more than one: never pick one of them.
 */
export async function matchBeneficiaries(sql: Sql, ids: postgres.Fragment): Promise<MbiMatch> {
  const rows = await sql<Row[]>`
    with ids as (${ids}), counted as (
      select min(bene_id) as bene_id, count(*)::int as matches from ids
    )
    select
      b.bene_id::text, b.mbi_num,
      b.efctv_bgn_dt::text, b.efctv_end_dt::text,
      b.bene_srnm_name, b.bene_gvn_name, b.bene_mdl_name,
      b.bene_birth_dt::text, b.bene_sex_ident_cd, b.state_code, b.bene_zip_cd,
      b.bene_death_dt::text,
      greatest(b.last_updated, (
        select max(h.last_updated) from beneficiaries_history h where h.bene_id = b.bene_id
      )) as last_updated,
      b.bene_race_cd, b.rfrnc_yr::int,
      array[b.meta_dual_elgbl_stus_jan_cd, b.meta_dual_elgbl_stus_feb_cd,
            b.meta_dual_elgbl_stus_mar_cd, b.meta_dual_elgbl_stus_apr_cd,
            b.meta_dual_elgbl_stus_may_cd, b.meta_dual_elgbl_stus_jun_cd,
            b.meta_dual_elgbl_stus_jul_cd, b.meta_dual_elgbl_stus_aug_cd,
            b.meta_dual_elgbl_stus_sept_cd, b.meta_dual_elgbl_stus_oct_cd,
            b.meta_dual_elgbl_stus_nov_cd, b.meta_dual_elgbl_stus_dec_cd]::text[] as duals,
      array[b.drvd_line_1_adr, b.drvd_line_2_adr, b.drvd_line_3_adr,
            b.drvd_line_4_adr, b.drvd_line_5_adr, b.drvd_line_6_adr]::text[] as lines,
      b.city_name,
      counted.matches,
      coalesce((
        select json_agg(json_build_object(
                 'mbi', h.mbi_num, 'start', h.efctv_bgn_dt, 'end', h.efctv_end_dt)
               order by h.efctv_bgn_dt nulls first, h.bene_history_id)
        from beneficiaries_history h
        where h.bene_id = b.bene_id and h.mbi_num is not null
          and h.mbi_num is distinct from b.mbi_num
      ), '[]'::json) as history
    from counted join beneficiaries b on b.bene_id = counted.bene_id`
  const row = rows[0]
  if (!row) return { kind: 'none' }
  if (row.matches > 1) return { kind: 'ambiguous', count: row.matches }
  return { kind: 'one', beneficiary: toBeneficiary(row) }
}

function dedupeHistory(history: MbiRecord[]): MbiRecord[] {
  const seen = new Set<string>()
  return history.filter((h) => !seen.has(h.mbi) && seen.add(h.mbi))
}

function toBeneficiary(row: Row): Beneficiary {
  return {
    beneId: row.bene_id,
    mbi: row.mbi_num,
    mbiStart: row.efctv_bgn_dt,
    mbiEnd: row.efctv_end_dt,
    familyName: row.bene_srnm_name,
    givenName: row.bene_gvn_name,
    middleInitial: row.bene_mdl_name,
    birthDate: row.bene_birth_dt,
    sexCode: row.bene_sex_ident_cd,
    stateCode: row.state_code,
    zip: row.bene_zip_cd,
    deathDate: row.bene_death_dt,
    lastUpdated: row.last_updated,
    historicMbis: dedupeHistory(row.history),
    raceCode: row.bene_race_cd,
    referenceYear: row.rfrnc_yr,
    dualStatus: row.duals,
    mailingAddress: { lines: row.lines, city: row.city_name },
  }
}

/** Whether a beneficiary holds `mbi` as its current MBI: one index probe, not a table count. */
export async function hasCurrentMbi(sql: Sql, mbi: Mbi): Promise<boolean> {
  const [row] = await sql<{ found: boolean }[]>`
    select exists (select 1 from beneficiaries where mbi_num = ${mbi}) as found`
  return row?.found ?? false
}

/** Whether the table is empty, reading one row at most. */
export async function hasNoBeneficiaries(sql: Sql): Promise<boolean> {
  const [row] = await sql<{ found: boolean }[]>`
    select exists (select 1 from beneficiaries) as found`
  return !(row?.found ?? false)
}

/**
 * How fresh the data is: the newest `last_updated` of any beneficiary or history row (two index
 * probes), or undefined for an empty database.
 */
export async function dataFreshness(sql: Sql): Promise<Date | undefined> {
  const [row] = await sql<{ newest: Date | null }[]>`
    select greatest(
      (select max(last_updated) from beneficiaries),
      (select max(last_updated) from beneficiaries_history)
    ) as newest`
  return row?.newest ?? undefined
}

export async function countBeneficiaries(sql: Sql): Promise<number> {
  const [row] = await sql<{ n: number }[]>`select count(*)::int as n from beneficiaries`
  return row?.n ?? 0
}
