import type { Curve, StoredJwk } from '../jwk.js'
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
  /** The private key of an entry of this reading; errors name the key, never its content. */
  privateKey(entry: KeyEntry): Promise<StoredJwk>
  /** The token of the entries with `backend: 'pkcs11'` (PKCS11_*), when one is configured. */
  pkcs11?: Pkcs11Options | undefined
}

/** What a custodian change sees inside its transaction. */
export interface RingChange {
  /** The entries, settled to now (staging.ts); change them in place. */
  entries: KeyEntry[]
  /**
   * Stores the private key of a new key (sealed under the passphrase when the store has one;
   * always in PostgreSQL) and returns its entry, active, with the next HPKE key id. The caller
   * stages it (staging.ts) or pushes it.
   */
  addKey(key: StoredJwk, now: Date): Promise<KeyEntry>
  /**
   * Generates a key pair of `crv` in the store's PKCS#11 token and records it by kid with its
   * references (src/keys/pkcs11/store.ts), no private material; its entry, as addKey's.
   */
  addHsmKey(crv: Curve, now: Date): Promise<KeyEntry>
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
 * it with `change`, one transaction each: concurrent custodians are serialised, and a reader sees
 * the ring before or after a change, never a mix.
 */
export interface KeyStore {
  readonly kind: KeyStoreKind
  /** Names the store in messages (a directory, or the database's key_ring_keys table). */
  readonly location: string
  /** The stored ring version, cheaply: what every poll reads. */
  version(): Promise<number>
  read(): Promise<StoredRing>
  change<T>(apply: (change: RingChange) => Promise<T> | T, now?: Date): Promise<T>
  /** Follows changes as they happen (LISTEN/NOTIFY, or the directory's file events). */
  subscribe(events: StoreEvents): Promise<StoreSubscription>
  close(): Promise<void>
}
