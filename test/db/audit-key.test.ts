import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/config/index.js'
import { auditKeyCheck, requireFleetAuditKey } from '../../src/db/audit-key.js'
import { createTestDatabase, type TestDatabase } from '../support/db.js'

let db: TestDatabase
beforeAll(async () => {
  db = await createTestDatabase()
})
afterAll(async () => {
  await db?.close()
})

function configError(env: Record<string, string>): ConfigError | undefined {
  try {
    loadConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  return undefined
}

describe('KEY_STORE', () => {
  const DB = { DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db' }
  it('is dir unless set, and postgres needs DATABASE_URL and the passphrase', () => {
    expect(loadConfig({}).keys.store).toBe('dir')
    expect(loadConfig({}).keys.pollIntervalSeconds).toBe(5)
    expect(configError({ KEY_STORE: 'postgres', KEYS_PASSPHRASE: 'x' })?.variable).toBe('KEY_STORE')
    expect(configError({ ...DB, KEY_STORE: 'postgres' })?.variable).toBe('KEYS_PASSPHRASE')
    expect(loadConfig({ ...DB, KEY_STORE: 'postgres', KEYS_PASSPHRASE: 'x' }).keys.store).toBe(
      'postgres',
    )
    expect(configError({ KEY_STORE: 'etcd' })?.variable).toBe('KEY_STORE')
    expect(configError({ KEYS_POLL_INTERVAL: '0' })?.variable).toBe('KEYS_POLL_INTERVAL')
  })
})

describe("the fleet's AUDIT_HMAC_KEY (KEY_STORE=postgres)", () => {
  it('is required, recorded by the first instance as a check value only, and must match after', async () => {
    await db.sql`update key_ring set audit_key_check = null`
    await expect(requireFleetAuditKey(db.sql, undefined)).rejects.toMatchObject({
      variable: 'AUDIT_HMAC_KEY',
    })
    const key = randomBytes(32)
    expect(await requireFleetAuditKey(db.sql, key)).toBe('recorded')
    expect(await requireFleetAuditKey(db.sql, Buffer.from(key))).toBe('matches')
    const [row] = await db.sql<{ check: string }[]>`select audit_key_check as check from key_ring`
    expect(row!.check).toBe(auditKeyCheck(key))
    expect(row!.check).not.toContain(key.toString('hex'))
    const other = requireFleetAuditKey(db.sql, randomBytes(32))
    await expect(other).rejects.toBeInstanceOf(ConfigError)
    await expect(other).rejects.toMatchObject({ variable: 'AUDIT_HMAC_KEY' })
  })
})
