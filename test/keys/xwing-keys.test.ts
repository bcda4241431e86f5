/**
 * X-Wing keys in both key stores: generated, sealed, loaded into the ring as hybrid keys,
 * published in the AKP form with their hpke_key_id, rotated, retired and revoked like every
 * other key; a PKCS#11 token is refused naming what it lacks.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encryptMbiHpke } from '@sealed-search/client'
import { openToken } from '../../src/crypto/token.js'
import {
  generateInStore,
  retireInStore,
  revokeInStore,
  rotateKeys,
} from '../../src/keys/custody/custody.js'
import { doctor } from '../../src/keys/custody/doctor.js'
import { dirKeyStore } from '../../src/keys/stores/dir-store.js'
import { addGeneratedKey } from '../../src/keys/custody/bootstrap.js'
import { loadKeyRing } from '../../src/keys/ring/open-key.js'
import { ringFromStore } from '../../src/keys/ring/follow.js'
import type { KeyStore } from '../../src/keys/stores/key-store.js'
import { postgresKeyStore } from '../../src/keys/stores/pg-store.js'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { tempDir } from '../support/keys.js'

const PASSPHRASE = 'correct horse battery staple, for tests only'
const MBI = '1S00E00AA00'
let db: TestDatabase

beforeAll(async () => {
  db = await createTestDatabase()
})
afterAll(async () => {
  await db?.close()
})

const stores: [string, () => Promise<KeyStore>][] = [
  ['dir', async () => dirKeyStore(await tempDir('sealed-keys-'), { passphrase: PASSPHRASE })],
  [
    'postgres',
    async () => {
      await db.sql`delete from key_ring_keys`
      await db.sql`update key_ring set version = 0, generation = 0, ring_salt = null, ring_check = null, ring_mac = null`
      return postgresKeyStore({ sql: db.sql, passphrase: PASSPHRASE })
    },
  ],
]

const ringAt = async (store: KeyStore) =>
  ringFromStore(await store.read(), new Map(), (e) => {
    throw e
  })

describe.each(stores)('X-Wing keys in the %s store', (_name, open) => {
  it('generates a sealed X-Wing key beside a P-256 key, published in the AKP form', async () => {
    const store = await open()
    const p256 = await generateInStore(store, 'P-256', 0)
    const xwing = await generateInStore(store, 'X-Wing', 0)
    expect(xwing).toMatchObject({ crv: 'X-Wing', state: 'active' })
    expect(xwing.hpkeKeyId).toBe(p256.hpkeKeyId + 1)
    const ring = await ringAt(store)
    expect(ring.keys.map((k) => k.kid)).toEqual([p256.kid])
    expect(ring.hybridKeys.map((k) => k.kid)).toEqual([xwing.kid])
    const published = ring.publishedJwks().keys
    expect(published).toHaveLength(2)
    expect(published[1]).toEqual({
      kty: 'AKP',
      alg: 'X-Wing',
      pub: expect.stringMatching(/^[A-Za-z0-9_-]{1622}$/),
      kid: xwing.kid,
      use: 'enc',
      hpke_key_id: xwing.hpkeKeyId,
    })
    const token = await encryptMbiHpke(MBI, ring.hybridKeys[0]!.publicJwk)
    expect((await openToken(token, ring, new Date())).mbi).toBe(MBI)
  })

  it('rotates, retires and revokes an X-Wing key like any other', async () => {
    const store = await open()
    const t0 = new Date('2026-06-01T00:00:00Z')
    const first = await generateInStore(store, 'X-Wing', 0, t0)
    const [staged] = await rotateKeys(store, {
      curves: ['X-Wing'],
      graceSeconds: 3600,
      publishDelaySeconds: 0,
      now: t0,
    })
    expect(staged!.added).toMatchObject({ crv: 'X-Wing' })
    expect(staged!.retiring.map((k) => k.kid)).toEqual([first.kid])
    await retireInStore(store, first.kid, true)
    await revokeInStore(store, staged!.added.kid)
    const ring = await ringAt(store)
    expect(ring.hybridKeys).toEqual([])
  })

  it('refuses an X-Wing key in a PKCS#11 token, naming what the token lacks', async () => {
    const store = await open()
    await expect(
      generateInStore(store, 'X-Wing', 0, undefined, { hsm: true }),
    ).rejects.toMatchObject({
      code: 'ERR_KEYS_HSM_CURVE_UNSUPPORTED',
      message: expect.stringMatching(/no X-Wing mechanism/),
    })
  })
})

describe('X-Wing keys in a key directory', () => {
  it('keeps the seed sealed, never in clear, and loads it into the ring with loadKeyRing', async () => {
    const dir = await tempDir('sealed-keys-')
    const entry = await addGeneratedKey(dir, 'X-Wing', new Date(), { passphrase: PASSPHRASE })
    expect(entry.file).toMatch(/\.private\.jwk\.jwe$/)
    const sealed = await readFile(join(dir, entry.file), 'utf8')
    expect(sealed).not.toMatch(/priv|AKP/)
    const ring = await loadKeyRing(dir, { passphrase: PASSPHRASE })
    expect(ring.hybridKeys.map((k) => k.kid)).toEqual([entry.kid])
    expect((await readdir(dir)).sort()).toEqual([entry.file, 'manifest.json'].sort())
  })

  it('passes doctor with an X-Wing key in clear', async () => {
    const dir = await tempDir('sealed-keys-')
    await addGeneratedKey(dir, 'X-Wing')
    const findings = await doctor(dir)
    expect(findings.filter((f) => f.level === 'error')).toEqual([])
  })
})
