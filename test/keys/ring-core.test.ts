/**
 * The one ring core (src/keys/custody/change.ts): every custodian change is a pure function of
 * the ring, the change and the time, and both stores only read and write whole rings. Rotating
 * both curves at once allocates distinct HPKE key ids; a revocation goes through whatever else is
 * wrong in the ring, and a gateway following the store applies it.
 */
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { activeCurves, applyChange } from '../../src/keys/custody/change.js'
import {
  ensureKeyInStore,
  generateInStore,
  revokeInStore,
  rotateKeys,
} from '../../src/keys/custody/custody.js'
import type { KeyEntry, KeyStore, Ring } from '../../src/keys/stores/key-store.js'
import { dirKeyStore } from '../../src/keys/stores/dir-store.js'
import { MANIFEST_FILE } from '../../src/keys/stores/manifest.js'
import { postgresKeyStore } from '../../src/keys/stores/pg-store.js'
import { followKeyStore, refusal, ringFromStore } from '../../src/keys/ring/follow.js'
import { capturingLogger } from '../support/app.js'
import { createTestDatabase, type TestDatabase } from '../support/db.js'
import { tempDir } from '../support/keys.js'

const PASSPHRASE = 'correct horse battery staple, for tests only'
const T0 = new Date('2026-06-01T00:00:00Z')

const entry = (kid: string, hpkeKeyId: number, crv: KeyEntry['crv'], state: KeyEntry['state']) =>
  ({ kid, hpkeKeyId, crv, state, created: T0.toISOString(), notAfter: null }) as KeyEntry

const ids = (entries: readonly KeyEntry[]) => entries.map((e) => e.hpkeKeyId)
const unique = <T>(xs: readonly T[]) => new Set(xs).size === xs.length

describe('the ring core', () => {
  const devRing: Ring = {
    entries: [entry('p1', 1, 'P-256', 'active'), entry('x1', 2, 'X25519', 'active')],
    invalid: [],
  }

  it('rotates both curves of the development ring with distinct, never-used HPKE key ids', () => {
    const curves = activeCurves(devRing, T0)
    expect(curves).toEqual(['P-256', 'X25519'])
    const done = applyChange(
      devRing,
      {
        type: 'rotate',
        keys: curves.map((crv, i) => ({ kid: `new${i}`, crv })),
        graceSeconds: 3600,
        publishDelaySeconds: 15,
      },
      T0,
    )
    expect(ids(done.ring.entries)).toEqual([1, 2, 3, 4])
    expect(done.added.map((k) => k.state)).toEqual(['pending', 'pending'])
    expect(done.retiring.map((r) => r.map((k) => k.kid))).toEqual([['p1'], ['x1']])
  })

  it('never gives a new key the id of an entry it left out', () => {
    const ring: Ring = {
      ...devRing,
      invalid: [{ kid: 'bad', hpkeKeyId: 9, why: 'x', revoked: false }],
    }
    const done = applyChange(
      ring,
      { type: 'generate', key: { kid: 'n', crv: 'P-256' }, publishDelaySeconds: 0 },
      T0,
    )
    expect(done.added[0]!.hpkeKeyId).toBe(10)
  })

  it('changes nothing of the ring it is given, and a refused change throws before any write', () => {
    const before = JSON.stringify(devRing)
    applyChange(devRing, { type: 'revoke', kid: 'p1' }, T0)
    expect(() => applyChange(devRing, { type: 'retire', kid: 'nope' }, T0)).toThrow(
      expect.objectContaining({ code: 'ERR_KEYS_UNKNOWN_KID' }),
    )
    expect(JSON.stringify(devRing)).toBe(before)
  })

  it('publishes the staged next key of a curve at once when its last published key is revoked', () => {
    const staged = applyChange(
      devRing,
      {
        type: 'rotate',
        keys: [{ kid: 'p2', crv: 'P-256' }],
        graceSeconds: 60,
        publishDelaySeconds: 3600,
      },
      T0,
    )
    expect(staged.ring.entries.find((e) => e.kid === 'p2')?.state).toBe('pending')
    const done = applyChange(staged.ring, { type: 'revoke', kid: 'p1' }, T0)
    const p2 = done.ring.entries.find((e) => e.kid === 'p2')!
    expect(p2).toMatchObject({ state: 'active', publishAt: null })
    expect(done.ring.entries.find((e) => e.kid === 'p1')?.state).toBe('revoked')
    // With another published key of the curve, the staged one keeps its publishAt.
    const two: Ring = {
      ...staged.ring,
      entries: [...staged.ring.entries, entry('p3', 9, 'P-256', 'active')],
    }
    const kept = applyChange(two, { type: 'revoke', kid: 'p1' }, T0)
    expect(kept.ring.entries.find((e) => e.kid === 'p2')?.state).toBe('pending')
  })

  it('revokes a kid that only an invalid entry lists, and refuses a kid listed nowhere', () => {
    const ring: Ring = {
      ...devRing,
      invalid: [{ kid: 'dup', why: 'duplicate kid', revoked: false }],
    }
    const done = applyChange(ring, { type: 'revoke', kid: 'dup' }, T0)
    expect(done.ring.invalid[0]).toMatchObject({
      kid: 'dup',
      revoked: true,
      revokedAt: T0.toISOString(),
    })
    expect(() => applyChange(ring, { type: 'revoke', kid: 'nowhere' }, T0)).toThrow(
      expect.objectContaining({ code: 'ERR_KEYS_UNKNOWN_KID' }),
    )
  })
})

let db: TestDatabase
const dirs: string[] = []
beforeAll(async () => {
  db = await createTestDatabase()
})
afterAll(async () => {
  await db?.close()
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
})

interface Opened {
  store: KeyStore
  /** Breaks the stored entry of `kid` as an attacker or a bad tool would. */
  breakEntry(kid: string): Promise<void>
  /** Lists `kid` a second time with another state (the directory) or drops its key (postgres). */
  duplicate(kid: string): Promise<void>
}

const stores: [string, () => Promise<Opened>][] = [
  [
    'dir',
    async () => {
      const dir = await tempDir('sealed-ring-core-')
      dirs.push(dir)
      const path = join(dir, MANIFEST_FILE)
      const edit = async (f: (keys: Record<string, unknown>[]) => void) => {
        const manifest = JSON.parse(await readFile(path, 'utf8'))
        f(manifest.keys)
        await writeFile(path, JSON.stringify(manifest))
      }
      return {
        store: dirKeyStore(dir),
        breakEntry: (kid) =>
          edit((keys) => {
            keys.find((k) => k.kid === kid)!.created = 'not a time'
          }),
        duplicate: (kid) =>
          edit((keys) => {
            keys.push({ ...keys.find((k) => k.kid === kid)!, state: 'active' })
          }),
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
        breakEntry: async (kid) => {
          await db.sql`update key_ring_keys set created = 'infinity' where kid = ${kid}`
        },
        duplicate: async (kid) => {
          // A table cannot list a kid twice: the closest is a row whose times do not parse.
          await db.sql`update key_ring_keys set not_after = '-infinity' where kid = ${kid}`
        },
      }
    },
  ],
]

describe.each(stores)('the %s store on the one core', (_name, open) => {
  it('rotates the default ring (P-256, X25519, X-Wing) without --curve: distinct ids, and the ring stays readable', async () => {
    const { store } = await open()
    await ensureKeyInStore(store)
    const staged = await rotateKeys(store, { graceSeconds: 3600, publishDelaySeconds: 15 })
    expect(staged.map((s) => s.added.crv)).toEqual(['P-256', 'X-Wing', 'X25519'])
    const read = await store.read()
    expect(read.invalid).toEqual([])
    expect(read.entries).toHaveLength(9)
    // Only each curve's current key retires: its next key takes over when the new one publishes.
    expect(staged.map((s) => s.retiring.map((k) => k.hpkeKeyId))).toEqual([[1], [3], [2]])
    expect(unique(ids(read.entries))).toBe(true)
    // Revocation and listing work on the rotated ring.
    await revokeInStore(store, staged[0]!.added.kid)
    const after = await store.read()
    expect(after.entries.find((e) => e.kid === staged[0]!.added.kid)?.state).toBe('revoked')
  })

  it('revokes a key while another entry is broken, and a following gateway applies it', async () => {
    const { store, breakEntry } = await open()
    const [p256, x25519, , p256Next, x25519Next] = await ensureKeyInStore(store)
    const { logger } = capturingLogger()
    const gateway = await followKeyStore(store, { logger, pollIntervalMs: 0, subscribe: false })
    try {
      expect(gateway.current().get(p256!.kid)).toBeDefined()
      await breakEntry(x25519!.kid)
      const revoked = await revokeInStore(store, p256!.kid)
      expect(revoked.kid).toBe(p256!.kid)
      await gateway.reload('test')
      expect(gateway.current().get(p256!.kid)).toBeUndefined()
      const read = await store.read()
      if (read.authenticity === 'not-required') {
        // The broken entry is left out and named, never loaded; a gateway started now agrees.
        expect(gateway.current().get(x25519!.kid)).toBeUndefined()
        expect(gateway.status().errors).toContain('ERR_KEYS_ENTRY_INVALID')
        const fresh = await ringFromStore(read, new Map())
        // Only the next keys of the development ring remain.
        expect(fresh.keys.map((k) => k.kid)).toEqual([p256Next!.kid, x25519Next!.kid])
      } else {
        // An authenticated ring changed outside the commands is refused whole: the instance
        // keeps the other keys as last authenticated, applies the revocation, and names why;
        // a gateway started now refuses the ring.
        expect(read.authenticity).toBe('tampered')
        expect(gateway.current().get(x25519!.kid)).toBeDefined()
        expect(gateway.status().errors).toContain('ERR_KEYS_RING_MAC')
        expect(refusal(read, store.location)?.code).toBe('ERR_KEYS_RING_MAC')
      }
    } finally {
      await gateway.close()
    }
  })

  it('revokes a key whose own entry is broken: it is accepted nowhere, and stays revoked once fixed', async () => {
    const { store, duplicate } = await open()
    const [p256] = await ensureKeyInStore(store)
    await duplicate(p256!.kid)
    expect((await store.read()).entries.map((e) => e.kid)).not.toContain(p256!.kid)
    await revokeInStore(store, p256!.kid)
    const read = await store.read()
    const listed = [...read.entries, ...read.invalid].filter((e) => e.kid === p256!.kid)
    expect(listed.length).toBeGreaterThan(0)
    for (const e of listed) {
      expect('state' in e ? e.state === 'revoked' : e.revoked || e.revokedAt !== undefined).toBe(
        true,
      )
    }
    const ring = await ringFromStore(read, new Map())
    expect(ring.get(p256!.kid)).toBeUndefined()
  })

  it('keeps a refused change from writing anything', async () => {
    const { store } = await open()
    await generateInStore(store, 'P-256', 0, T0)
    const before = await store.read()
    await expect(
      rotateKeys(store, { curves: ['P-256'], graceSeconds: 60, publishDelaySeconds: 30, now: T0 }),
    ).resolves.toHaveLength(1)
    const staged = await store.read()
    await expect(
      rotateKeys(store, { curves: ['P-256'], graceSeconds: 60, publishDelaySeconds: 30, now: T0 }),
    ).rejects.toMatchObject({ code: 'ERR_KEYS_STATE' })
    expect((await store.read()).version).toBe(staged.version)
    expect(staged.version).not.toBe(before.version)
  })
})

describe('a key directory with a missing key file', () => {
  it('still revokes', async () => {
    const dir = await tempDir('sealed-ring-core-')
    dirs.push(dir)
    const store = dirKeyStore(dir)
    const [p256, x25519] = await ensureKeyInStore(store)
    await rm(join(dir, x25519!.file!))
    await revokeInStore(store, p256!.kid)
    expect((await store.read()).entries.find((e) => e.kid === p256!.kid)?.state).toBe('revoked')
  })
})
