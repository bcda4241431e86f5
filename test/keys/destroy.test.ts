/**
 * Destroying a key, in each store: only a retired or revoked key; its private material removed
 * (the key file overwritten and unlinked, the sealed value nulled in the transaction that records
 * the state), its public record kept (kid and hpkeKeyId never reused), a token for it refused as
 * for an unknown kid by a ring loaded afresh (a restart), the other keys unaffected. And the
 * schedule: retire with a destroy time, sweep destroys what is due and writes nothing otherwise.
 */
import { readdir } from 'node:fs/promises'
import { encryptMbiHpke, encryptMbiJwe } from '@sealed-search/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openToken } from '../../src/crypto/token.js'
import {
  destroyInStore,
  generateInStore,
  retireInStore,
  revokeInStore,
  rotateKeys,
  sweepStore,
} from '../../src/keys/custody/custody.js'
import { destroyKey } from '../../src/keys/custody/destroy.js'
import { ringFromStore } from '../../src/keys/ring/follow.js'
import type { KeyRing } from '../../src/keys/ring/keyring.js'
import { dirKeyStore } from '../../src/keys/stores/dir-store.js'
import type { KeyEntry, KeyStore } from '../../src/keys/stores/key-store.js'
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

const entry = (state: KeyEntry['state'], extra: Partial<KeyEntry> = {}): KeyEntry => ({
  kid: `k-${state}`,
  hpkeKeyId: 1,
  crv: 'P-256',
  state,
  created: '2026-01-01T00:00:00.000Z',
  notAfter: state === 'retiring' ? '2099-01-01T00:00:00.000Z' : null,
  ...(state === 'pending' ? { publishAt: '2099-01-01T00:00:00.000Z' } : {}),
  ...extra,
})

describe('the destroy change', () => {
  it.each(['pending', 'active', 'retiring'] as const)('refuses a %s key, naming its state', (s) => {
    const entries = [entry(s)]
    expect(() => destroyKey(entries, `k-${s}`, new Date())).toThrow(
      expect.objectContaining({
        code: 'ERR_KEYS_STATE',
        message: expect.stringContaining(`k-${s} is ${s}: only a retired or revoked key`),
      }),
    )
    expect(entries[0]!.state).toBe(s)
  })

  it('refuses an unknown kid', () => {
    expect(() => destroyKey([entry('retired')], 'nope', new Date())).toThrow(
      expect.objectContaining({ code: 'ERR_KEYS_UNKNOWN_KID' }),
    )
  })

  it.each(['retired', 'revoked'] as const)('destroys a %s key, once', (s) => {
    const entries = [entry(s, { destroyAt: '2026-02-01T00:00:00.000Z' })]
    const now = new Date('2026-03-01T00:00:00Z')
    expect(destroyKey(entries, `k-${s}`, now)).toMatchObject({
      state: 'destroyed',
      destroyedAt: now.toISOString(),
      destroyAt: null,
    })
    // Again: nothing changes (the time of the first destruction stays).
    expect(destroyKey(entries, `k-${s}`, new Date()).destroyedAt).toBe(now.toISOString())
  })
})

const stores: [
  string,
  () => Promise<{ store: KeyStore; material: (kid: string) => Promise<boolean> }>,
][] = [
  [
    'dir',
    async () => {
      const dir = await tempDir('sealed-destroy-')
      return {
        store: dirKeyStore(dir),
        material: async (kid) => (await readdir(dir)).some((f) => f.startsWith(`${kid}.private`)),
      }
    },
  ],
  [
    'postgres',
    async () => {
      await db.sql`delete from key_ring_keys`
      await db.sql`update key_ring set version = 0, generation = 0, ring_salt = null, ring_check = null, ring_mac = null`
      return {
        store: postgresKeyStore({ sql: db.sql, passphrase: PASSPHRASE }),
        material: async (kid) => {
          const [row] = await db.sql<{ sealed: string | null }[]>`
            select sealed_private_jwk as sealed from key_ring_keys where kid = ${kid}`
          return row?.sealed != null
        },
      }
    },
  ],
]

async function ringAt(store: KeyStore): Promise<KeyRing> {
  return ringFromStore(await store.read(), new Map(), (e) => {
    throw e
  })
}

async function outcome(token: string, ring: KeyRing): Promise<string> {
  return openToken(token, ring, new Date()).then(
    (opened) => `opened by ${opened.kid}`,
    (e: { code: string }) => e.code,
  )
}

describe.each(stores)('destroy in the %s store', (_name, open) => {
  it('refuses the active key, destroys it once retired; a restarted ring refuses its tokens', async () => {
    const { store, material } = await open()
    const old = await generateInStore(store, 'P-256', 0)
    const oldJwk = (await ringAt(store)).get(old.kid)!.publicJwk
    const tokens = [await encryptMbiJwe(MBI, oldJwk), await encryptMbiHpke(MBI, oldJwk)]
    await expect(destroyInStore(store, old.kid)).rejects.toMatchObject({ code: 'ERR_KEYS_STATE' })
    const [staged] = await rotateKeys(store, { graceSeconds: 60, publishDelaySeconds: 0 })
    const added = staged!.added
    await expect(destroyInStore(store, old.kid)).rejects.toThrow(/is retiring: only a retired/)
    await retireInStore(store, old.kid)
    expect(await material(old.kid)).toBe(true)

    const destroyed = await destroyInStore(store, old.kid)
    expect(destroyed).toMatchObject({ kid: old.kid, state: 'destroyed', hpkeKeyId: old.hpkeKeyId })
    expect(await material(old.kid)).toBe(false)
    const { entries } = await store.read()
    expect(entries.find((e) => e.kid === old.kid)).toMatchObject({
      state: 'destroyed',
      destroyedAt: destroyed.destroyedAt,
    })

    // A ring loaded afresh, as a restarted gateway loads it: the destroyed key's tokens are
    // refused as for an unknown kid, the new key works.
    const ring = await ringAt(store)
    for (const t of tokens) expect(await outcome(t, ring)).toBe('ERR_TOKEN_KID_UNKNOWN')
    const fresh = await encryptMbiJwe(MBI, ring.get(added.kid)!.publicJwk)
    expect(await outcome(fresh, ring)).toBe(`opened by ${added.kid}`)

    // The kid's HPKE key id is never given again.
    const next = await generateInStore(store, 'X25519', 0)
    expect(next.hpkeKeyId).toBeGreaterThan(Math.max(old.hpkeKeyId, added.hpkeKeyId))
  })

  it('destroys a revoked X-Wing key: its material gone, its hybrid tokens refused as unknown', async () => {
    const { store, material } = await open()
    await generateInStore(store, 'P-256', 0)
    const xwing = await generateInStore(store, 'X-Wing', 0)
    const before = await ringAt(store)
    const hybrid = before.hybridKeys.find((k) => k.kid === xwing.kid)!
    const token = await encryptMbiHpke(MBI, hybrid.publicJwk)
    expect(await outcome(token, before)).toBe(`opened by ${xwing.kid}`)
    await expect(destroyInStore(store, xwing.kid)).rejects.toMatchObject({ code: 'ERR_KEYS_STATE' })
    await revokeInStore(store, xwing.kid)
    expect(await material(xwing.kid)).toBe(true)

    await destroyInStore(store, xwing.kid)
    expect(await material(xwing.kid)).toBe(false)
    const after = await ringAt(store)
    expect(after.hybridKeys.map((k) => k.kid)).not.toContain(xwing.kid)
    expect(await outcome(token, after)).toBe('ERR_TOKEN_KID_UNKNOWN')
    const next = await generateInStore(store, 'X-Wing', 0)
    expect(next.hpkeKeyId).toBeGreaterThan(xwing.hpkeKeyId)
  })

  it('sweeps what is due: a retired key with a destroy time, a revoked one; nothing else', async () => {
    const { store, material } = await open()
    const keep = await generateInStore(store, 'P-256', 0)
    const a = await generateInStore(store, 'X25519', 0)
    const b = await generateInStore(store, 'P-256', 0)
    const scheduled = await retireInStore(store, a.kid, false, new Date(), 60)
    expect(Date.parse(scheduled.destroyAt!) - Date.now()).toBeGreaterThan(50_000)
    await revokeInStore(store, b.kid)
    const version = await store.version()
    expect(await sweepStore(store)).toEqual([]) // not due yet
    expect(await store.version()).toBe(version)
    const later = new Date(Date.now() + 120_000)
    expect((await sweepStore(store, later)).map((k) => k.kid)).toEqual([a.kid])
    expect(await material(a.kid)).toBe(false)
    expect(await material(b.kid)).toBe(true) // revoked, never scheduled
    expect(await material(keep.kid)).toBe(true)
    expect(await sweepStore(store, later)).toEqual([])
  })
})
