/**
 * The model-based test of key custody (test/support/custody-model.ts) on both stores: random
 * sequences of every custodian command, restarts, tampering and commands killed between their
 * key material and their write, with the invariants checked after every step. More runs:
 * `npm run keys:model -- --runs N`.
 */
import { rm } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dirKeyStore } from '../../src/keys/stores/dir-store.js'
import { postgresKeyStore } from '../../src/keys/stores/pg-store.js'
import { checkCustodyModel, tamperManifest, type ModelStore } from '../support/custody-model.js'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { tempDir } from '../support/keys.js'

let db: TestDatabase
beforeAll(async () => {
  db = await createTestDatabase()
})
afterAll(async () => {
  await db?.close()
})

async function dirModelStore(): Promise<ModelStore> {
  const dir = await tempDir('sealed-model-')
  return {
    store: dirKeyStore(dir),
    tamper: (kid) => tamperManifest(dir, kid),
    close: () => rm(dir, { recursive: true, force: true }),
  }
}

describe('the custody model', () => {
  it('holds on the directory store over 250 random sequences', async () => {
    const counts = await checkCustodyModel(dirModelStore, 250, 10)
    expect(counts.sequences).toBe(250)
    expect(counts.steps).toBeGreaterThan(250)
  }, 120_000)

  it('holds on the postgres store (authenticated ring) over 12 random sequences', async () => {
    // Every new key is sealed (PBES2, 600,000 iterations) and opened by each instance: few runs.
    const open = async (): Promise<ModelStore> => {
      await db.sql`delete from key_ring_keys`
      await db.sql`update key_ring set version = 0, generation = 0, ring_salt = null, ring_check = null, ring_mac = null`
      return {
        store: postgresKeyStore({ sql: db.sql, passphrase: 'model passphrase, tests only' }),
        tamper: async (kid) => {
          const rows = await db.sql`
            update key_ring_keys set state = case when state = 'revoked' then 'active' else 'revoked' end,
              not_after = null, publish_at = null, retire_at = null
            where kid = ${kid} returning kid`
          return rows.length > 0
        },
        close: async () => {},
      }
    }
    const counts = await checkCustodyModel(open, 12, 5)
    expect(counts.sequences).toBe(12)
  }, 300_000)
})
