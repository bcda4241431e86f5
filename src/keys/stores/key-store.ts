import type { Curve, StoredJwk } from '../jwk.js'
import type { InvalidEntry } from './invalid-entry.js'
import type { Authenticity } from './ring-mac.js'
import type { ManifestEntry } from './manifest.js'
import type { Pkcs11Options } from '../pkcs11/token.js'

/** A key as every store records it: the manifest entry without the directory's file name. */
export type KeyEntry = Omit<ManifestEntry, 'file'> & { file?: string }

/** The kinds of store (KEY_STORE): a directory per host, or the fleet's PostgreSQL database. */
export const KEY_STORE_KINDS = ['dir', 'postgres'] as const
export type KeyStoreKind = (typeof KEY_STORE_KINDS)[number]

/** One consistent reading of a store: the entries and their version, read together. */
export interface StoredRing {
  /** The ring version (ring-version.ts) of exactly these entries. */
  version: number
  entries: readonly KeyEntry[]
  /** Stored entries left out of `entries`, each named (invalid-entry.ts). */
  invalid: readonly InvalidEntry[]
  /** The private key of an entry of this reading; errors name the key, never its content. */
  privateKey(entry: KeyEntry): Promise<StoredJwk>
  /**
   * What identifies the stored private key's bytes (a digest of a sealed row; a key file's mode,
   * size and times): a key that failed to open is not opened again, nor derived again, until it
   * changes. Undefined when the store cannot say.
   */
  stamp?(entry: KeyEntry): Promise<string | undefined>
  /** The token of the entries with `backend: 'pkcs11'` (PKCS11_*), when one is configured. */
  pkcs11?: Pkcs11Options | undefined
  /** The ring's generation (0: never authenticated); one more with every change. */
  generation: number
  /**
   * The ring checked against the passphrase (ring-mac.ts); 'not-required' when the store has no
   * passphrase (a directory of keys in clear). Gateways use only an authentic ring.
   */
  authenticity: Authenticity | 'not-required'
}

/** A whole ring as the custody core changes it: its entries and the stored ones left out. */
export interface Ring {
  readonly entries: readonly KeyEntry[]
  readonly invalid: readonly InvalidEntry[]
}

/** A new key's stored material, recorded by the store before the ring lists it. */
export type NewKey = Pick<KeyEntry, 'kid' | 'crv' | 'file' | 'backend' | 'pkcs11'>

/** What a custodian change can ask of the store inside its transaction: new key material. */
export interface KeyMaterial {
  /**
   * Stores the private key of a new key (sealed under the passphrase when the store has one;
   * always in PostgreSQL). The key is in the ring only once the change's ring lists it.
   */
  addKey(key: StoredJwk): Promise<NewKey>
  /**
   * Generates a key pair of `crv` in the store's PKCS#11 token and records it by kid with its
   * references (src/keys/pkcs11/store.ts), no private material.
   */
  addHsmKey(crv: Curve, ring: Ring): Promise<NewKey>
}

/** What a change gives back: the whole new ring, which the store writes, and its own result. */
export interface ChangeOutcome<T> {
  ring: Ring
  result: T
}

/**
 * How a change treats a ring that is not authentic. By default it refuses it (a wrong passphrase:
 * ERR_KEYS_PASSPHRASE_WRONG; a ring changed outside the commands: ERR_KEYS_RING_MAC; no MAC:
 * ERR_KEYS_RING_UNAUTHENTICATED), so a custodian never signs what someone else wrote.
 */
export interface ChangeOptions {
  /**
   * A revocation goes through a ring that is not authentic (never a wrong passphrase): it is
   * written without a new MAC, so the ring stays refused, and gateways apply the revocation.
   */
  revocation?: boolean
  /** `keys authenticate`: MACs a ring that has none, after every sealed key opened. */
  authenticate?: boolean
}

/** The token of a store's HSM keys (PKCS11_*), when one is configured. */
export interface StoreTokenOptions {
  pkcs11?: Pkcs11Options | undefined
}

export interface StoreSubscription {
  close(): Promise<void>
}

export interface StoreEvents {
  /** The store changed (a notification, a file event): read the version and reload. */
  changed(reason: string): void
  /** A subscription that had dropped is back: changes may have been missed, so reload. */
  resumed(reason: string): void
  /** A subscription dropped or failed; the poll keeps the ring current meanwhile. */
  lost(error: unknown): void
}

/**
 * Where a gateway's key ring lives. Gateways read; the custodian commands (`npm run keys`) change
 * it with `change`, one transaction each, and the store only reads and writes whole rings: concurrent custodians are serialised, and a reader sees
 * the ring before or after a change, never a mix.
 */
export interface KeyStore {
  readonly kind: KeyStoreKind
  /** Names the store in messages (a directory, or the database's key_ring_keys table). */
  readonly location: string
  /** The stored ring version, cheaply: what every poll reads. */
  version(): Promise<number>
  /**
   * The fleet's clock, when the store has one: the database's time (PostgreSQL). Gateways
   * measure their skew against it at every poll. A directory has none: one host, its own clock.
   */
  now?(): Promise<Date>
  read(): Promise<StoredRing>
  /**
   * Reads the whole ring, lets `apply` compute the next one (custody/change.ts) and writes it
   * whole: the directory by a temporary file and a rename, PostgreSQL in one transaction.
   * `now` is the change's time: the database's `now()` in that transaction, so a custodian's
   * clock never sets publishAt, retireAt or notAfter; the directory's host clock.
   */
  change<T>(
    apply: (
      ring: Ring,
      material: KeyMaterial,
      now: Date,
    ) => Promise<ChangeOutcome<T>> | ChangeOutcome<T>,
    options?: ChangeOptions,
  ): Promise<T>
  /** Follows changes as they happen (LISTEN/NOTIFY, or the directory's file events). */
  subscribe(events: StoreEvents): Promise<StoreSubscription>
  close(): Promise<void>
}
