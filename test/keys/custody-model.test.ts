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
import {
  checkCustodyModel,
  runSequence,
  tamperManifest,
  type ModelStore,
} from '../support/custody-model.js'
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
    // The no-gap invariant was checked, not only stated.
    expect(counts.revocationsWithNext).toBeGreaterThan(10)
  }, 120_000)

  it('holds on the postgres store (authenticated ring) over 12 random sequences', async () => {
    // Every new key is sealed (PBES2, 600,000 iterations) and opened by each instance: few runs.
    const passphrase = 'model passphrase, tests only'
    const open = async (): Promise<ModelStore> => {
      await db.sql`delete from key_ring_keys`
      await db.sql`update key_ring set version = 0, generation = 0, ring_salt = null, ring_check = null, ring_mac = null`
      return {
        store: postgresKeyStore({ sql: db.sql, passphrase }),
        passphrase,
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

    // Found by the model: a row revoked by a tamper and then put back as it was is the authentic
    // ring again; the instance that saw the revocation keeps refusing the kid, a new one accepts it.
    const counts2 = { sequences: 0, steps: 0 }
    const tamper0 = { op: 'tamper', pick: 0 } as const
    const tamper1 = { op: 'tamper', pick: 1 } as const
    await runSequence(open, [tamper0, tamper0, { op: 'restart', which: 0 }, tamper0], counts2)
    // An authentic revocation, then the row put back to active: refused by every instance.
    await runSequence(
      open,
      [
        { op: 'revoke', pick: 0 },
        tamper0,
        { op: 'restart', which: 1 },
        { op: 'restart', which: 0 },
      ],
      counts2,
    )
    // The same for an X-Wing key: the instances that saw it revoked keep refusing it.
    await runSequence(open, [{ op: 'generate', crv: 'X-Wing' }, tamper1, tamper1], counts2)
    expect(counts2).toEqual({ sequences: 3, steps: 11 })
  }, 300_000)
})
