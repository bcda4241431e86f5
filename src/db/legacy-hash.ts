import { SealedSearchError } from '../errors.js'
import { LEGACY_HASH_CHECK_INPUT, legacyIdentifierHash } from '../identifiers/legacy-hash.js'
import type { Mbi } from '../identifiers/mbi.js'
import { matchBeneficiaries, type MbiMatch } from './beneficiaries.js'
import type { Sql } from './sql.js'

/**
 * The legacy `mbi-hash` search and the backfill of its table, `legacy_mbi_hash` (migration 002).
 * The core tables are only read: no hash is ever written to beneficiaries or their history.
 */

/** The beneficiary whose current or historical MBI has this legacy hash (64 lower-case hex). */
export function findByMbiHash(sql: Sql, hash: string): Promise<MbiMatch> {
  return matchBeneficiaries(
    sql,
    sql`select b.bene_id from legacy_mbi_hash l join beneficiaries b on b.mbi_num = l.mbi_num
        where l.mbi_hash = ${hash}
        union
        select h.bene_id from legacy_mbi_hash l join beneficiaries_history h on h.mbi_num = l.mbi_num
        where l.mbi_hash = ${hash}`,
  )
}

export type LegacyHashErrorCode = 'ERR_LEGACY_HASH_PARAMS_MISMATCH'

export class LegacyHashError extends SealedSearchError<LegacyHashErrorCode> {
  constructor(code: LegacyHashErrorCode, message: string) {
    super(code, message)
    this.name = 'LegacyHashError'
  }
}

export interface FillOptions {
  /** The secret salt; never logged, never stored (only a check value derived from it). */
  pepper: Uint8Array
  iterations: number
  batchSize?: number
  onProgress?: (done: number, total: number) => void
}

export interface FillResult {
  /** MBIs hashed by this run. */
  hashed: number
  /** MBIs that already had a hash (an earlier, possibly interrupted, run). */
  present: number
}

/** MBIs, current or historical, that have no row in legacy_mbi_hash yet. */
export async function countUnhashedMbis(sql: Sql): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from (
      select mbi_num from beneficiaries where mbi_num is not null
      union
      select mbi_num from beneficiaries_history where mbi_num is not null
    ) m
    where not exists (select 1 from legacy_mbi_hash l where l.mbi_num = m.mbi_num)`
  return row?.n ?? 0
}

async function nextUnhashed(sql: Sql, after: string, limit: number): Promise<Mbi[]> {
  const rows = await sql<{ mbi_num: Mbi }[]>`
    select m.mbi_num from (
      select mbi_num from beneficiaries where mbi_num > ${after}
      union
      select mbi_num from beneficiaries_history where mbi_num > ${after}
    ) m
    where not exists (select 1 from legacy_mbi_hash l where l.mbi_num = m.mbi_num)
    order by m.mbi_num
    limit ${limit}`
  return rows.map((r) => r.mbi_num)
}

/**
 * Records the parameters of this fill (first run), or checks them against the recorded ones:
 * another pepper or iteration count is refused, so one table never mixes two kinds of hash.
 */
async function checkParams(sql: Sql, iterations: number, checkHash: string): Promise<void> {
  await sql`
    insert into legacy_mbi_hash_params (iterations, check_hash)
    values (${iterations}, ${checkHash})
    on conflict do nothing`
  const [row] = await sql<{ iterations: number; check_hash: string }[]>`
    select iterations, check_hash from legacy_mbi_hash_params`
  if (!row || row.iterations !== iterations || row.check_hash !== checkHash) {
    throw new LegacyHashError(
      'ERR_LEGACY_HASH_PARAMS_MISMATCH',
      'legacy_mbi_hash was filled with another pepper or iteration count; use --reset to start over',
    )
  }
}

/** Empties legacy_mbi_hash and its recorded parameters (the core tables are untouched). */
export async function resetLegacyHashes(sql: Sql): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`delete from legacy_mbi_hash`
    await tx`delete from legacy_mbi_hash_params`
  })
}

/**
 * Hashes every MBI (current and historical) that has no legacy hash yet, in batches, each batch
 * committed on its own: stopping at any point loses at most the batch in flight, and a rerun
 * picks up the MBIs still missing. Returns how many were hashed now and how many were there.
 */
export async function fillLegacyHashes(sql: Sql, options: FillOptions): Promise<FillResult> {
  const { pepper, iterations, batchSize = 1000, onProgress } = options
  await checkParams(
    sql,
    iterations,
    await legacyIdentifierHash(LEGACY_HASH_CHECK_INPUT, pepper, iterations),
  )
  const [all] = await sql<{ n: number }[]>`select count(*)::int as n from legacy_mbi_hash`
  const present = all?.n ?? 0
  const total = await countUnhashedMbis(sql)
  let hashed = 0
  let after = ''
  onProgress?.(0, total)
  for (;;) {
    const mbis = await nextUnhashed(sql, after, batchSize)
    if (mbis.length === 0) break
    const rows = await Promise.all(
      mbis.map(async (mbi) => ({
        mbi_num: mbi,
        mbi_hash: await legacyIdentifierHash(mbi, pepper, iterations),
      })),
    )
    await sql`insert into legacy_mbi_hash ${sql(rows)} on conflict do nothing`
    hashed += rows.length
    after = mbis[mbis.length - 1]!
    onProgress?.(Math.min(hashed, total), total)
  }
  return { hashed, present }
}
