import { createHmac } from 'node:crypto'
import { ConfigError } from '../config/errors.js'
import type { Sql } from './sql.js'

/**
 * The fleet's check that every instance has the same AUDIT_HMAC_KEY (KEY_STORE=postgres): the
 * key_ring row keeps an HMAC of a fixed label under the key, never the key. The first instance
 * records it; every later one must match, or its audit fingerprints would not correlate.
 */
export function auditKeyCheck(key: Buffer): string {
  return createHmac('sha256', key).update('sealed-search audit key check v1').digest('hex')
}

export type AuditKeyCheck = 'recorded' | 'matches' | 'differs'

export async function checkFleetAuditKey(sql: Sql, key: Buffer): Promise<AuditKeyCheck> {
  const check = auditKeyCheck(key)
  const recorded = await sql`
    update key_ring set audit_key_check = ${check} where audit_key_check is null returning 1`
  if (recorded.length > 0) return 'recorded'
  const [row] = await sql<{ audit_key_check: string }[]>`select audit_key_check from key_ring`
  return row?.audit_key_check === check ? 'matches' : 'differs'
}

/**
 * A fleet's audit fingerprints must correlate: with KEY_STORE=postgres every instance needs
 * AUDIT_HMAC_KEY, and the same one. Throws a ConfigError naming the variable otherwise.
 */
export async function requireFleetAuditKey(
  sql: Sql,
  key: Buffer | undefined,
): Promise<AuditKeyCheck> {
  if (!key) {
    throw new ConfigError(
      'AUDIT_HMAC_KEY',
      'required with KEY_STORE=postgres: every instance of a fleet must fingerprint identifiers alike (or AUDIT_HMAC_KEY_FILE)',
    )
  }
  const check = await checkFleetAuditKey(sql, key)
  if (check === 'differs') {
    throw new ConfigError(
      'AUDIT_HMAC_KEY',
      "differs from the fleet's (its check value in key_ring): every instance must use the same key",
    )
  }
  return check
}
