import { DEVELOPMENT_CURVES } from './bootstrap.js'
import { KeyStoreError } from '../errors.js'
import { generateStoredKey, type KeyAlgorithm } from '../jwk.js'
import { tokenCurve } from '../pkcs11/store.js'
import type { KeyEntry, KeyStore, RingChange } from '../stores/key-store.js'
import { stateAt } from '../stores/manifest.js'
import { destroyKey, scheduleDestroy, sweepDue } from './destroy.js'
import { retireKey, revokeKey, stageRotation } from './staging.js'

/**
 * The custodian commands on any store (`npm run keys`), each one `store.change`: one
 * transaction (PostgreSQL) or one locked manifest write (directory).
 */

export interface StagedKey {
  added: KeyEntry
  /** The keys the new one replaces: published until its publishAt, accepted for the grace. */
  retiring: KeyEntry[]
}

export interface RotateOptions {
  /** Curves to rotate; default every curve with an active key. */
  curves?: KeyAlgorithm[]
  graceSeconds: number
  publishDelaySeconds: number
  now?: Date
  /** Make the new keys in the store's PKCS#11 token (`--hsm`). */
  hsm?: boolean
}

/** A new key of `crv`: in the store's PKCS#11 token, or in process (sealed per the store). */
async function addNewKey(
  change: RingChange,
  crv: KeyAlgorithm,
  now: Date,
  inToken: boolean,
): Promise<KeyEntry> {
  if (inToken) return change.addHsmKey(tokenCurve(crv), now)
  return change.addKey(await generateStoredKey(crv), now)
}

/**
 * Adds a new pending key per curve, published after the delay (staging.ts). The delay counts
 * from after the new keys are generated and sealed, just before the change commits: that is
 * when gateways can first see them. A new key is made where its predecessor is: in the PKCS#11
 * token when an active key of the curve is there, or with `hsm`.
 */
export async function rotateKeys(store: KeyStore, options: RotateOptions): Promise<StagedKey[]> {
  return store.change(async (change) => {
    const { entries } = change
    const curves =
      options.curves ??
      [
        ...new Set(
          entries
            .filter((k) => stateAt(k, options.now ?? new Date()) === 'active')
            .map((k) => k.crv),
        ),
      ].sort()
    if (curves.length === 0) {
      throw new KeyStoreError(
        'ERR_KEYS_NONE_ACTIVE',
        'no active key to rotate; use generate, or give --curve',
      )
    }
    const added: KeyEntry[] = []
    for (const crv of curves) {
      const inToken =
        options.hsm === true ||
        entries.some(
          (k) =>
            k.crv === crv &&
            k.backend === 'pkcs11' &&
            stateAt(k, options.now ?? new Date()) === 'active',
        )
      added.push(await addNewKey(change, crv, options.now ?? new Date(), inToken))
    }
    const now = options.now ?? new Date()
    return added.map((key) => ({
      added: key,
      retiring: stageRotation(entries, key, { ...options, now }),
    }))
  }, options.now)
}

/**
 * Adds one key of `crv`, in the store's PKCS#11 token with `hsm`. Into a ring with no published
 * key it is active at once (there is nothing to keep working); otherwise it is pending for
 * `publishDelaySeconds`, like a rotation that replaces nothing.
 */
export async function generateInStore(
  store: KeyStore,
  crv: KeyAlgorithm,
  publishDelaySeconds: number,
  now?: Date,
  options: { hsm?: boolean } = {},
): Promise<KeyEntry> {
  return store.change(async (change) => {
    const { entries } = change
    const added = await addNewKey(change, crv, now ?? new Date(), options.hsm === true)
    const at = now ?? new Date()
    const published = entries.some((k) => stateAt(k, at) === 'active')
    if (published && publishDelaySeconds > 0) {
      added.state = 'pending'
      added.publishAt = new Date(at.getTime() + publishDelaySeconds * 1000).toISOString()
    }
    entries.push(added)
    return added
  }, now)
}

/**
 * In a store with no key at all, the development ring (KEYS_AUTOGENERATE): one active key per
 * curve of DEVELOPMENT_CURVES; else nothing.
 */
export async function ensureKeyInStore(store: KeyStore): Promise<KeyEntry[]> {
  if ((await store.read()).entries.length > 0) return []
  return store.change(async ({ entries, addKey }) => {
    if (entries.length > 0) return [] // another instance was first
    const added: KeyEntry[] = []
    for (const crv of DEVELOPMENT_CURVES) {
      const entry = await addKey(await generateStoredKey(crv), new Date())
      entries.push(entry)
      added.push(entry)
    }
    return added
  })
}

/** Retires a key; with `destroyAfterSeconds`, records when `sweep` is to destroy it. */
export function retireInStore(
  store: KeyStore,
  kid: string,
  force = false,
  destroyAfterSeconds?: number,
): Promise<KeyEntry> {
  const now = new Date()
  return store.change(({ entries }) => {
    const entry = retireKey(entries, kid, now, force)
    if (destroyAfterSeconds === undefined) return entry
    return scheduleDestroy(entries, kid, new Date(+now + destroyAfterSeconds * 1000), now)
  }, now)
}

/** Destroys a retired or revoked key: the state, then its private material (destroy.ts). */
export function destroyInStore(store: KeyStore, kid: string, now = new Date()): Promise<KeyEntry> {
  return store.change(({ entries }) => destroyKey(entries, kid, now), now)
}

/** Destroys every key whose destroyAt has come; none due: nothing is written. */
export async function sweepStore(store: KeyStore, now = new Date()): Promise<KeyEntry[]> {
  const { entries } = await store.read()
  if (!entries.some((k) => k.destroyAt != null && new Date(k.destroyAt) <= now)) return []
  return store.change(({ entries }) => sweepDue(entries, now), now)
}

export function revokeInStore(store: KeyStore, kid: string): Promise<KeyEntry> {
  const now = new Date()
  return store.change(({ entries }) => revokeKey(entries, kid, now), now)
}
