import { createHash } from 'node:crypto'
import type { ReadPool } from '../../db/read-pool.js'
import type { Sql } from '../../db/sql.js'
import { KeyStoreError } from '../errors.js'
import {
  algorithmOf,
  hasPrivateMember,
  publicOfStored,
  type KeyAlgorithm,
  type PublicJwk,
  type StoredJwk,
  type XWingPublicJwk,
} from '../jwk.js'
import type { KeyEntry, KeyStore, StoredRing, StoreEvents } from './key-store.js'
import type { InvalidEntry } from './invalid-entry.js'
import type { KeyState, Pkcs11Ref } from './manifest.js'
import { KEY_RING_CHANNEL, listenForRingChanges } from './pg-listen.js'
import { destroyHsmKey, makeHsmKey } from '../pkcs11/store.js'
import type { Pkcs11Options } from '../pkcs11/token.js'
import { openPrivateJwk, sealPrivateJwk } from './protect.js'
import { ringVersion } from './ring-version.js'
import { afterChange, authenticity, beforeChange } from './ring-guard.js'
import { isRingAuth, type RingAuth } from './ring-mac.js'

interface KeyRow {
  kid: string
  hpke_key_id: number
  crv: KeyAlgorithm
  state: KeyState
  created: Date
  not_after: Date | null
  publish_at: Date | null
  retire_at: Date | null
  destroy_at: Date | null
  destroyed_at: Date | null
  custody: 'sealed' | 'hsm'
  sealed_private_jwk: string | null
  /** custody 'hsm' (migration 006): the token's label and the key pair's CKA_ID there. */
  hsm_token: string | null
  hsm_id: string | null
}

export interface PostgresKeyStoreOptions {
  /** The pool of the primary (DATABASE_URL), with the gateway's search_path. */
  sql: Sql
  /**
   * Where a gateway reads the ring (`version`, `read`): the primary first, then DATABASE_READ_URL's
   * hosts, whose hot standbys replicate the ring tables. Changes always go to `sql`. Default: `sql`.
   */
  reads?: ReadPool
  /** Seals new private keys and opens stored ones; required (KEYS_PASSPHRASE[_FILE]). */
  passphrase: string | undefined
  /** The token of HSM keys (custody 'hsm'), when configured. */
  pkcs11?: Pkcs11Options | undefined
  /** Where LISTEN connects: DATABASE_URL, never a standby. Without it, subscribe only polls. */
  listen?: { url: string; searchPath?: string | undefined; retryMs?: number }
}

const iso = (d: Date | null) => (d ? d.toISOString() : null)
const date = (s: string | null | undefined) => (s ? new Date(s) : null)

function toEntry(row: KeyRow): KeyEntry {
  return {
    kid: row.kid,
    hpkeKeyId: row.hpke_key_id,
    crv: row.crv,
    state: row.state,
    created: row.created.toISOString(),
    notAfter: iso(row.not_after),
    publishAt: iso(row.publish_at),
    retireAt: iso(row.retire_at),
    ...(row.destroy_at ? { destroyAt: iso(row.destroy_at) } : {}),
    ...(row.destroyed_at ? { destroyedAt: iso(row.destroyed_at) } : {}),
    ...(row.custody === 'hsm'
      ? { backend: 'pkcs11' as const, pkcs11: { token: row.hsm_token!, id: row.hsm_id! } }
      : {}),
  }
}

const where = (kid: string) => `key_ring_keys ${kid}`

/** key_ring's authentication columns (migration 009). */
interface AuthRow {
  generation: string | number
  ring_salt: string | null
  ring_check: string | null
  ring_mac: string | null
}

function authOf(row: AuthRow | undefined): RingAuth | undefined {
  if (!row) return undefined
  const auth = {
    generation: Number(row.generation),
    salt: row.ring_salt,
    check: row.ring_check,
    mac: row.ring_mac,
  }
  return isRingAuth(auth) ? auth : undefined
}

const validTime = (d: Date | null) => d === null || !Number.isNaN(d.getTime())

/**
 * The rows as a ring: a row whose times do not parse (`infinity`) or whose HPKE key id another
 * row has is left out and named; its kid is accepted nowhere, and a revocation of it still holds.
 */
export function rowsToRing(rows: readonly KeyRow[]): {
  entries: KeyEntry[]
  invalid: InvalidEntry[]
} {
  const entries: KeyEntry[] = []
  const invalid: InvalidEntry[] = []
  for (const row of rows) {
    const times = [
      row.created,
      row.not_after,
      row.publish_at,
      row.retire_at,
      row.destroy_at,
      row.destroyed_at,
    ]
    const why =
      !(row.created instanceof Date) || !times.every(validTime)
        ? `${where(row.kid)}: a time that is not a date`
        : undefined
    if (why) {
      invalid.push({
        kid: row.kid,
        hpkeKeyId: row.hpke_key_id,
        why,
        revoked: row.state === 'revoked',
      })
    } else {
      entries.push(toEntry(row))
    }
  }
  return { entries, invalid }
}

/**
 * KEY_STORE=postgres: the fleet's ring in the gateway's own database (migration 004). A change
 * is one transaction that first locks the key_ring row (SELECT ... FOR UPDATE), so concurrent
 * custodians run one after the other; it ends by setting the new ring version and NOTIFY, which
 * PostgreSQL delivers at commit.
 */
export function postgresKeyStore(options: PostgresKeyStoreOptions): KeyStore {
  const { sql, passphrase } = options
  const read = <T>(work: (s: Sql) => Promise<T>): Promise<T> =>
    options.reads ? options.reads.read(work) : work(sql)

  const openRow = async (row: KeyRow): Promise<StoredJwk> => {
    if (row.custody !== 'sealed' || row.sealed_private_jwk === null) {
      throw new KeyStoreError('ERR_KEYS_FILE_INVALID', `${where(row.kid)}: no sealed private key`)
    }
    if (passphrase === undefined) {
      throw new KeyStoreError(
        'ERR_KEYS_PASSPHRASE',
        `${where(row.kid)}: sealed; set KEYS_PASSPHRASE or KEYS_PASSPHRASE_FILE`,
      )
    }
    const text = await openPrivateJwk(row.sealed_private_jwk, passphrase, where(row.kid))
    let jwk: StoredJwk
    try {
      jwk = JSON.parse(text) as StoredJwk
    } catch (cause) {
      throw new KeyStoreError('ERR_KEYS_FILE_INVALID', `${where(row.kid)}: not a JSON JWK`, {
        cause,
      })
    }
    if (!hasPrivateMember(jwk)) {
      throw new KeyStoreError('ERR_KEYS_FILE_INVALID', `${where(row.kid)}: not a private JWK`)
    }
    if (jwk.kid !== row.kid || algorithmOf(jwk) !== row.crv) {
      throw new KeyStoreError('ERR_KEYS_KID_MISMATCH', `${where(row.kid)}: kid or crv differs`)
    }
    return jwk
  }

  const unavailable = (cause: unknown): never => {
    if (cause instanceof KeyStoreError) throw cause
    const code = (cause as { code?: unknown }).code
    throw new KeyStoreError(
      'ERR_KEYS_STORE_UNAVAILABLE',
      `the key ring tables cannot be read${typeof code === 'string' ? ` (${code})` : ''}`,
      { cause },
    )
  }

  return {
    kind: 'postgres',
    location: 'PostgreSQL table key_ring_keys',
    async version() {
      try {
        const [row] = await read((s) => s<{ version: string }[]>`select version from key_ring`)
        if (!row) throw new Error('key_ring has no row')
        return Number(row.version)
      } catch (cause) {
        return unavailable(cause)
      }
    },
    async now() {
      try {
        // clock_timestamp(): the time of this statement, not of a transaction's start.
        const [row] = await sql<{ now: Date }[]>`select clock_timestamp() as now`
        return row!.now
      } catch (cause) {
        return unavailable(cause)
      }
    },
    async read(): Promise<StoredRing> {
      let rows: KeyRow[]
      let head: AuthRow | undefined
      try {
        // One snapshot of the whole ring: its rows and its authentication, read together.
        // A reading from a hot standby is verified exactly as one from the primary (follow.ts).
        ;[head, rows] = await read((s) =>
          s.begin('isolation level repeatable read read only', async (tx) => [
            (
              await tx<AuthRow[]>`select generation, ring_salt, ring_check, ring_mac from key_ring`
            )[0],
            await tx<KeyRow[]>`select * from key_ring_keys order by hpke_key_id`,
          ]),
        )
      } catch (cause) {
        return unavailable(cause)
      }
      const { entries, invalid } = rowsToRing(rows)
      const auth = authOf(head)
      const byKid = new Map(rows.map((r) => [r.kid, r]))
      return {
        version: ringVersion(entries, invalid),
        entries,
        invalid,
        generation: auth?.generation ?? 0,
        authenticity: await authenticity(passphrase, { entries, invalid, auth }),
        pkcs11: options.pkcs11,
        stamp: async (entry) => {
          const sealed = byKid.get(entry.kid)?.sealed_private_jwk
          return sealed ? createHash('sha256').update(sealed).digest('base64url') : undefined
        },
        privateKey: (entry) => {
          const row = byKid.get(entry.kid)
          if (!row) throw new KeyStoreError('ERR_KEYS_UNKNOWN_KID', `no key with kid ${entry.kid}`)
          return openRow(row)
        },
      }
    },
    async change(apply, changeOptions = {}) {
      if (passphrase === undefined) {
        throw new KeyStoreError(
          'ERR_KEYS_PASSPHRASE',
          'the postgres key store authenticates its ring and seals its keys: set KEYS_PASSPHRASE or KEYS_PASSPHRASE_FILE',
        )
      }
      const destroyedInToken: KeyEntry[] = []
      const result = await sql.begin(async (tx) => {
        const [head] = await tx<AuthRow[]>`
          select generation, ring_salt, ring_check, ring_mac from key_ring where singleton for update`
        if (!head) throw new KeyStoreError('ERR_KEYS_STORE_UNAVAILABLE', 'key_ring has no row')
        const rows = await tx<KeyRow[]>`select * from key_ring_keys order by hpke_key_id`
        // The change's time is the database's, never the custodian's clock (one clock per fleet).
        const [clock] = await tx<{ now: Date }[]>`select now() as now`
        const read = rowsToRing(rows)
        const previous = authOf(head)
        const found = { ...read, auth: previous }
        const how = await beforeChange(passphrase, found, 'key_ring', changeOptions, async () => {
          for (const row of rows) {
            if (
              row.custody !== 'sealed' ||
              ['retired', 'revoked', 'destroyed'].includes(row.state)
            ) {
              continue
            }
            await openRow(row)
          }
        })
        const before = new Map(read.entries.map((e) => [e.kid, JSON.stringify(e)]))
        const wasDestroyed = new Set(
          read.entries.filter((e) => e.state === 'destroyed').map((e) => e.kid),
        )
        const added = new Map<
          string,
          { publicJwk: PublicJwk | XWingPublicJwk; sealed: string | null; hsm: Pkcs11Ref | null }
        >()
        const { ring: next, result } = await apply(
          read,
          {
            async addHsmKey(crv, current) {
              const key = await makeHsmKey(options.pkcs11, crv, current.entries)
              const { kid } = key.publicJwk
              added.set(kid, { publicJwk: key.publicJwk, sealed: null, hsm: key.ref })
              return { kid, crv, backend: 'pkcs11', pkcs11: key.ref }
            },
            async addKey(key) {
              if (passphrase === undefined) {
                throw new KeyStoreError(
                  'ERR_KEYS_PASSPHRASE',
                  'the postgres key store keeps private keys sealed: set KEYS_PASSPHRASE or KEYS_PASSPHRASE_FILE',
                )
              }
              const sealed = await sealPrivateJwk(JSON.stringify(key), passphrase)
              added.set(key.kid, { publicJwk: publicOfStored(key), sealed, hsm: null })
              return { kid: key.kid, crv: algorithmOf(key)! }
            },
          },
          clock!.now,
        )
        // The whole ring, in this transaction: new rows, changed rows, revoked invalid rows.
        for (const e of next.entries) {
          const fresh = added.get(e.kid)
          if (fresh && !before.has(e.kid)) {
            await tx`
              insert into key_ring_keys (kid, hpke_key_id, crv, state, created, not_after,
                publish_at, retire_at, public_jwk, custody, sealed_private_jwk, hsm_token, hsm_id)
              values (${e.kid}, ${e.hpkeKeyId}, ${e.crv}, ${e.state}, ${date(e.created)},
                ${date(e.notAfter)}, ${date(e.publishAt)}, ${date(e.retireAt)},
                ${tx.json({ ...fresh.publicJwk })}, ${fresh.hsm ? 'hsm' : 'sealed'},
                ${fresh.sealed}, ${fresh.hsm?.token ?? null}, ${fresh.hsm?.id ?? null})`
          } else if (!before.has(e.kid)) {
            throw new KeyStoreError('ERR_KEYS_STATE', `${e.kid}: a new key without stored material`)
          } else if (JSON.stringify(e) !== before.get(e.kid)) {
            // A destroyed key's sealed value goes in the transaction that records the state.
            await tx`
              update key_ring_keys set state = ${e.state}, not_after = ${date(e.notAfter)},
                publish_at = ${date(e.publishAt)}, retire_at = ${date(e.retireAt)},
                destroy_at = ${date(e.destroyAt)}, destroyed_at = ${date(e.destroyedAt)},
                sealed_private_jwk = case when ${e.state} = 'destroyed' then null
                  else sealed_private_jwk end
              where kid = ${e.kid}`
            if (e.state === 'destroyed' && e.backend === 'pkcs11' && !wasDestroyed.has(e.kid)) {
              destroyedInToken.push(e)
            }
          }
        }
        for (const e of next.invalid) {
          if (e.revokedAt === undefined || e.kid === undefined) continue
          await tx`
            update key_ring_keys set state = 'revoked', not_after = ${date(e.revokedAt)},
              publish_at = null, retire_at = null, created = least(created, ${date(e.revokedAt)})
            where kid = ${e.kid}`
        }
        const written = rowsToRing(await tx<KeyRow[]>`select * from key_ring_keys`)
        const version = ringVersion(written.entries, written.invalid)
        const auth = await afterChange(how, passphrase, previous, written)
        await tx`update key_ring set version = ${version}, changed_at = now(),
          generation = ${auth?.generation ?? 0}, ring_salt = ${auth?.salt ?? null},
          ring_check = ${auth?.check ?? null}, ring_mac = ${auth?.mac ?? null}`
        // Delivered at commit, to every session listening, on every instance.
        await tx`select pg_notify(${KEY_RING_CHANNEL}, current_schema() || ':' || ${String(version)})`
        return result
      })
      // A token is no part of the transaction: its objects go once the state is committed; a
      // failure here leaves the object, which doctor reports.
      for (const entry of destroyedInToken) await destroyHsmKey(entry, options.pkcs11)
      return result as Awaited<ReturnType<typeof apply>>['result']
    },
    async subscribe(events: StoreEvents) {
      if (!options.listen) return { close: async () => {} }
      return listenForRingChanges(options.listen, events)
    },
    async close() {},
  }
}
