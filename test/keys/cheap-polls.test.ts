/**
 * Polls stay cheap: a sealed key whose stored bytes have not changed is never derived again, so
 * hostile rows declaring the highest PBES2 count cost one derivation each when they appear, and
 * nothing at the polls after.
 */
import { CompactEncrypt } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateInStore } from '../../src/keys/custody/custody.js'
import { followKeyStore } from '../../src/keys/ring/follow.js'
import { postgresKeyStore } from '../../src/keys/stores/pg-store.js'
import { PBES2_MAX_ITERATIONS } from '../../src/keys/stores/protect.js'
import { capturingLogger } from '../support/app.js'
import { createTestDatabase, type TestDatabase } from '../support/db.js'

const PASSPHRASE = 'cheap polls, tests only'
let db: TestDatabase
beforeAll(async () => {
  db = await createTestDatabase()
})
afterAll(async () => {
  await db?.close()
})

/** A sealed-looking JWE under another passphrase that declares p2c = PBES2_MAX_ITERATIONS. */
async function hostileSeal(): Promise<string> {
  return new CompactEncrypt(new TextEncoder().encode('{"not":"a key"}'))
    .setProtectedHeader({ alg: 'PBES2-HS512+A256KW', enc: 'A256GCM', cty: 'jwk+json' })
    .setKeyManagementParameters({ p2c: PBES2_MAX_ITERATIONS })
    .encrypt(new TextEncoder().encode('an attacker passphrase'))
}

describe('polling a ring with hostile sealed rows', () => {
  it('spends under 1 s of CPU over 20 polls with 3 rows declaring p2c=5000000', async () => {
    const store = postgresKeyStore({ sql: db.sql, passphrase: PASSPHRASE })
    const good = await generateInStore(store, 'P-256', 0)
    const kids: string[] = []
    for (let i = 0; i < 3; i++) kids.push((await generateInStore(store, 'X25519', 0)).kid)
    // The rows' sealed bytes replaced: the MAC covers states and times, not the sealed bytes,
    // whose own authentication (AES-GCM under the passphrase) fails only after the derivation.
    const hostile = await hostileSeal()
    for (const kid of kids) {
      await db.sql`update key_ring_keys set sealed_private_jwk = ${hostile} where kid = ${kid}`
    }
    const { logger } = capturingLogger()
    const gateway = await followKeyStore(store, { logger, pollIntervalMs: 0, subscribe: false })
    try {
      // At start-up: one derivation per hostile row, each refused.
      expect(gateway.status().errors).toEqual([
        'ERR_KEYS_PASSPHRASE',
        'ERR_KEYS_PASSPHRASE',
        'ERR_KEYS_PASSPHRASE',
      ])
      expect(gateway.current().get(good.kid)).toBeDefined()
      const cpu = process.cpuUsage()
      for (let i = 0; i < 20; i++) await gateway.reload('poll')
      const used = process.cpuUsage(cpu)
      const seconds = (used.user + used.system) / 1e6
      console.log(`20 polls with 3 hostile rows: ${seconds.toFixed(3)} s of CPU`)
      expect(seconds).toBeLessThan(1)
      // Still refused, and named, at every poll.
      expect(gateway.status().errors).toHaveLength(3)
      expect(gateway.current().get(kids[0]!)).toBeUndefined()
    } finally {
      await gateway.close()
    }
  }, 180_000)
})
