import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { needs, REAL_SERVER } from '../support/needs.js'
import { createSql, type Sql } from '../../src/db/sql.js'
import { DEVELOPMENT_CURVES } from '../../src/keys/custody/bootstrap.js'
import {
  ensureKeyInStore,
  generateInStore,
  retireInStore,
  revokeInStore,
  rotateKeys,
} from '../../src/keys/custody/custody.js'
import { dirKeyStore } from '../../src/keys/stores/dir-store.js'
import { followKeyStore, ringFromStore } from '../../src/keys/ring/follow.js'
import type { KeyStore } from '../../src/keys/stores/key-store.js'
import { postgresKeyStore } from '../../src/keys/stores/pg-store.js'
import { ringVersion } from '../../src/keys/stores/ring-version.js'
import { capturingLogger } from '../support/app.js'
import { createTestDatabase, realServer, type TestDatabase } from '../support/db.js'
import { tempDir } from '../support/keys.js'
import { faultProxy } from '../support/proxy.js'

const PASSPHRASE = 'correct horse battery staple, for tests only'
let db: TestDatabase

beforeAll(async () => {
  db = await createTestDatabase()
})
afterAll(async () => {
  await db?.close()
})

const stores: [string, () => Promise<KeyStore>][] = [
  ['dir', async () => dirKeyStore(await tempDir('sealed-keys-'))],
  [
    'postgres',
    async () => {
      await db.sql`delete from key_ring_keys`
      await db.sql`update key_ring set version = 0, generation = 0, ring_salt = null, ring_check = null, ring_mac = null`
      return postgresKeyStore({ sql: db.sql, passphrase: PASSPHRASE })
    },
  ],
]

const kids = (keys: readonly { kid: string }[]) => keys.map((k) => k.kid).sort()

async function ringAt(store: KeyStore) {
  return ringFromStore(await store.read(), new Map(), (e) => {
    throw e
  })
}

describe.each(stores)('the %s key store', (_name, open) => {
  it('stages a rotation: pending is accepted but unpublished until publishAt, then the old key retires', async () => {
    const store = await open()
    const t0 = new Date('2026-06-01T00:00:00Z')
    const first = await generateInStore(store, 'P-256', 15, t0)
    expect(first.state).toBe('active') // the first key: nothing to keep working
    const [staged] = await rotateKeys(store, {
      graceSeconds: 3600,
      publishDelaySeconds: 15,
      now: t0,
    })
    expect(staged!.added).toMatchObject({ state: 'pending', publishAt: '2026-06-01T00:00:15.000Z' })
    expect(kids(staged!.retiring)).toEqual([first.kid])

    const ring = await ringAt(store)
    const before = new Date('2026-06-01T00:00:14Z')
    const after = new Date('2026-06-01T00:00:15Z')
    const added = ring.get(staged!.added.kid)!
    const old = ring.get(first.kid)!
    expect(kids(ring.jwks(before).keys)).toEqual([first.kid])
    expect(ring.accepts(added, before)).toBe(true)
    expect(kids(ring.jwks(after).keys)).toEqual([added.kid])
    expect(ring.accepts(old, after)).toBe(true) // retiring for the grace period
    expect(ring.accepts(old, new Date('2026-06-01T01:00:15Z'))).toBe(false)
    expect(ring.get(added.kid)!.hpkeKeyId).toBe(first.hpkeKeyId + 1)
  })

  it('refuses a second rotation of a curve while one is staged, and retiring the pending key withdraws it', async () => {
    const store = await open()
    const first = await generateInStore(store, 'P-256', 15)
    const [staged] = await rotateKeys(store, { graceSeconds: 60, publishDelaySeconds: 600 })
    await expect(
      rotateKeys(store, { graceSeconds: 60, publishDelaySeconds: 600 }),
    ).rejects.toMatchObject({ code: 'ERR_KEYS_STATE' })
    await retireInStore(store, staged!.added.kid)
    const { entries } = await store.read()
    expect(entries.find((e) => e.kid === first.kid)).toMatchObject({
      state: 'active',
      retireAt: null,
      notAfter: null,
    })
    const ring = await ringAt(store)
    expect(ring.get(staged!.added.kid)).toBeUndefined()
    expect(kids(ring.jwks(new Date(Date.now() + 3_600_000)).keys)).toEqual([first.kid])
  })

  it('revokes at once, and the version is the hash of the content', async () => {
    const store = await open()
    const a = await generateInStore(store, 'P-256', 0)
    const x = await generateInStore(store, 'X25519', 0)
    const v1 = await store.version()
    await revokeInStore(store, x.kid)
    const read = await store.read()
    expect(read.version).toBe(ringVersion(read.entries))
    expect(await store.version()).toBe(read.version)
    expect(read.version).not.toBe(v1)
    const ring = await ringAt(store)
    expect(ring.get(x.kid)).toBeUndefined()
    expect(kids(ring.jwks().keys)).toEqual([a.kid])
    await expect(retireInStore(store, x.kid)).rejects.toMatchObject({ code: 'ERR_KEYS_STATE' })
  })

  it('makes the development ring in an empty store once: a current and a next P-256, X25519 and X-Wing key', async () => {
    const store = await open()
    const added = await ensureKeyInStore(store)
    expect(added.map((k) => k.crv)).toEqual([...DEVELOPMENT_CURVES, ...DEVELOPMENT_CURVES])
    expect(added.map((k) => k.state)).toEqual(Array(6).fill('active'))
    const ring = await ringAt(store)
    // Each curve's current key first, then the next keys: partners take the first of their curve.
    expect(ring.jwks().keys.map((k) => k.crv)).toEqual(['P-256', 'X25519', 'P-256', 'X25519'])
    expect(ring.jwks().keys.map((k) => k.kid)).toEqual([0, 1, 3, 4].map((i) => added[i]!.kid))
    expect(ring.hybridKeys.map((k) => k.crv)).toEqual(['X-Wing', 'X-Wing'])
    expect(await ensureKeyInStore(store)).toEqual([])
    expect((await store.read()).entries).toHaveLength(6)
  })

  it('serialises concurrent custodians: four generates give four keys with distinct HPKE ids', async () => {
    const store = await open()
    await generateInStore(store, 'P-256', 0)
    // A store of its own per custodian: separate connections (or processes' view of a directory).
    const others = await Promise.all(
      Array.from({ length: 4 }, async () =>
        store.kind === 'dir'
          ? dirKeyStore(store.location)
          : postgresKeyStore({ sql: await ownPool(), passphrase: PASSPHRASE }),
      ),
    )
    await Promise.all(others.map((s) => generateInStore(s, 'X25519', 30)))
    const { entries, version } = await store.read()
    expect(entries).toHaveLength(5)
    expect(new Set(entries.map((e) => e.hpkeKeyId)).size).toBe(5)
    expect(await store.version()).toBe(version)
  })
})

const pools: Sql[] = []
async function ownPool(): Promise<Sql> {
  if (!realServer) return db.sql // the embedded database serves one connection
  const sql = createSql({ url: db.url, max: 1, ...(db.schema ? { searchPath: db.schema } : {}) })
  pools.push(sql)
  return sql
}
afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()))
})

describe('the postgres key store', () => {
  it('keeps private keys only sealed (PBES2 JWE), and cannot add one without the passphrase', async () => {
    await db.sql`delete from key_ring_keys`
    await db.sql`update key_ring set version = 0, generation = 0, ring_salt = null, ring_check = null, ring_mac = null`
    const store = postgresKeyStore({ sql: db.sql, passphrase: PASSPHRASE })
    const key = await generateInStore(store, 'P-256', 0)
    const [row] = await db.sql<{ sealed: string; pub: Record<string, unknown> }[]>`
      select sealed_private_jwk as sealed, public_jwk as pub from key_ring_keys where kid = ${key.kid}`
    const header = JSON.parse(Buffer.from(row!.sealed.split('.')[0]!, 'base64url').toString())
    expect(header).toMatchObject({ alg: 'PBES2-HS512+A256KW', enc: 'A256GCM' })
    expect(row!.sealed).not.toMatch(/"d"/)
    expect(row!.pub).not.toHaveProperty('d')
    const bare = postgresKeyStore({ sql: db.sql, passphrase: undefined })
    await expect(generateInStore(bare, 'P-256', 0)).rejects.toMatchObject({
      code: 'ERR_KEYS_PASSPHRASE',
    })
    const wrong = postgresKeyStore({ sql: db.sql, passphrase: 'not the passphrase' })
    await expect((await wrong.read()).privateKey(key)).rejects.toMatchObject({
      code: 'ERR_KEYS_PASSPHRASE',
    })
  })
})

describe('the directory key store', () => {
  it('writes the same states and flags into manifest.json', async () => {
    const dir = await tempDir('sealed-keys-')
    const store = dirKeyStore(dir, {})
    await generateInStore(store, 'P-256', 0)
    const [staged] = await rotateKeys(store, { graceSeconds: 60, publishDelaySeconds: 30 })
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'))
    const entry = manifest.keys.find((k: { kid: string }) => k.kid === staged!.added.kid)
    expect(entry).toMatchObject({ state: 'pending', publishAt: staged!.added.publishAt })
  })
})

// LISTEN needs a second session: PGlite serves one, so this runs against a real server only.
describe.runIf(needs(realServer, `following a postgres store (LISTEN) ${REAL_SERVER}`))(
  'following a postgres store (real PostgreSQL only)',
  () => {
    it('reloads on NOTIFY, and after its connection drops and returns it listens again and catches up', async () => {
      await db.sql`delete from key_ring_keys`
      await db.sql`update key_ring set version = 0, generation = 0, ring_salt = null, ring_check = null, ring_mac = null`
      const writer = postgresKeyStore({ sql: db.sql, passphrase: PASSPHRASE })
      await generateInStore(writer, 'P-256', 0)
      const target = new URL(db.url)
      const proxy = await faultProxy(target.hostname, Number(target.port))
      const through = new URL(db.url)
      through.port = String(proxy.port)
      const sql = createSql({
        url: through.toString(),
        max: 1,
        connectTimeoutSeconds: 1,
        searchPath: db.schema!,
      })
      const { logger, lines } = capturingLogger()
      const reader = postgresKeyStore({
        sql,
        passphrase: PASSPHRASE,
        listen: { url: through.toString(), searchPath: db.schema, retryMs: 200 },
      })
      // No polling: every catch-up here comes from LISTEN.
      const ring = await followKeyStore(reader, { logger, pollIntervalMs: 0 })
      try {
        const x = await generateInStore(writer, 'X25519', 0)
        await until(() => ring.current().get(x.kid) !== undefined, 3000)
        expect(ring.version()).toBe(await writer.version())

        proxy.setMode('refuse')
        await until(() => lines.some((l) => l.includes('subscription lost')), 3000)
        await revokeInStore(writer, x.kid)
        await new Promise((r) => setTimeout(r, 300))
        expect(ring.current().get(x.kid)).toBeDefined() // the last good ring keeps serving
        proxy.setMode('pass')
        await until(() => ring.current().get(x.kid) === undefined, 5000)
        expect(ring.version()).toBe(await writer.version())
        expect(lines.some((l) => l.includes('subscription resumed'))).toBe(true)
      } finally {
        await ring.close()
        await sql.end()
        await proxy.close()
      }
    })
  },
)

async function until(check: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`)
    await new Promise((r) => setTimeout(r, 20))
  }
}
