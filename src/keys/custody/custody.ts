import { DEVELOPMENT_CURVES } from './development.js'
import { generateStoredKey, type KeyAlgorithm } from '../jwk.js'
import { tokenCurve } from '../pkcs11/store.js'
import type { KeyEntry, KeyMaterial, KeyStore, NewKey, Ring } from '../stores/key-store.js'
import { lacksNextKey } from '../stores/key-role.js'
import { activeCurves, applyChange, inTokenFor, type Change } from './change.js'
import { dueForDestruction } from './destroy.js'

/**
 * The custodian commands on any store (`npm run keys`), each one `store.change`: the store reads
 * the whole ring, the change is computed by `applyChange` (change.ts), and the store writes the
 * result whole (one transaction, or one locked manifest rename). A change is tried first with
 * placeholder keys, so a refused change refuses before any key material is made.
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
  /** The change's time; default the store's (the database's now() for PostgreSQL). */
  now?: Date
  /** Make the new keys in the store's PKCS#11 token (`--hsm`). */
  hsm?: boolean
}

/** A new key of `crv`: in the store's PKCS#11 token, or in process (sealed per the store). */
async function newKey(
  material: KeyMaterial,
  ring: Ring,
  crv: KeyAlgorithm,
  inToken: boolean,
): Promise<NewKey> {
  if (inToken) return material.addHsmKey(tokenCurve(crv), ring)
  return material.addKey(await generateStoredKey(crv))
}

/** The store's time (the database's for PostgreSQL), else this host's: what `list` shows by. */
export async function storeNow(store: KeyStore): Promise<Date> {
  return store.now ? store.now() : new Date()
}

const placeholder = (crv: KeyAlgorithm, i: number): NewKey => ({ kid: `-new-${i}-`, crv })

/**
 * Adds a new pending key per curve, published after the delay (staging.ts). A new key is made
 * where its predecessor is: in the PKCS#11 token when an active key of the curve is there, or
 * with `hsm`. Without `curves`, every curve with an active key: one change, distinct ids.
 */
export async function rotateKeys(store: KeyStore, options: RotateOptions): Promise<StagedKey[]> {
  return store.change(async (ring, material, at) => {
    const now = options.now ?? at
    const curves = options.curves ?? activeCurves(ring, now)
    const change = (keys: NewKey[]): Change => ({
      type: 'rotate',
      keys,
      graceSeconds: options.graceSeconds,
      publishDelaySeconds: options.publishDelaySeconds,
    })
    applyChange(ring, change(curves.map(placeholder)), now)
    const keys: NewKey[] = []
    for (const crv of curves) {
      const inToken = options.hsm === true || inTokenFor(ring, crv, now)
      keys.push(await newKey(material, ring, crv, inToken))
    }
    const done = applyChange(ring, change(keys), now)
    const result = done.added.map((added, i) => ({ added, retiring: done.retiring[i] ?? [] }))
    return { ring: done.ring, result }
  })
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
  at?: Date,
  options: { hsm?: boolean } = {},
): Promise<KeyEntry> {
  return store.change(async (ring, material, storeNow) => {
    const now = at ?? storeNow
    applyChange(ring, { type: 'generate', key: placeholder(crv, 0), publishDelaySeconds }, now)
    const key = await newKey(material, ring, crv, options.hsm === true)
    const done = applyChange(ring, { type: 'generate', key, publishDelaySeconds }, now)
    return { ring: done.ring, result: done.added[0]! }
  })
}

/**
 * In a store with no key at all, the development ring (KEYS_AUTOGENERATE): two active keys per
 * curve of DEVELOPMENT_CURVES, its current and its next key; else nothing.
 */
export async function ensureKeyInStore(store: KeyStore): Promise<KeyEntry[]> {
  if ((await store.read()).entries.length > 0) return []
  return store.change(async (ring, material, now) => {
    if (ring.entries.length + ring.invalid.length > 0) return { ring, result: [] } // another was first
    // Each curve's current key, then its next key (key-role.ts): a revocation leaves no gap.
    const keys: NewKey[] = []
    for (const crv of [...DEVELOPMENT_CURVES, ...DEVELOPMENT_CURVES])
      keys.push(await material.addKey(await generateStoredKey(crv)))
    const done = applyChange(ring, { type: 'bootstrap', keys }, now)
    return { ring: done.ring, result: done.added }
  })
}

/** Retires a key; with `destroyAfterSeconds`, records when `sweep` is to destroy it. */
export function retireInStore(
  store: KeyStore,
  kid: string,
  force = false,
  at?: Date,
  destroyAfterSeconds?: number,
): Promise<KeyEntry> {
  return store.change((ring, _, now) => {
    const change: Change = { type: 'retire', kid, force, destroyAfterSeconds }
    const done = applyChange(ring, change, at ?? now)
    return { ring: done.ring, result: done.changed! }
  })
}

/** Destroys a retired or revoked key: the state, then its private material (destroy.ts). */
export function destroyInStore(store: KeyStore, kid: string, at?: Date): Promise<KeyEntry> {
  return store.change((ring, _, now) => {
    const done = applyChange(ring, { type: 'destroy', kid }, at ?? now)
    return { ring: done.ring, result: done.changed! }
  })
}

/** Destroys every key whose destroyAt has come; none due: nothing is written. */
export async function sweepStore(store: KeyStore, at?: Date): Promise<KeyEntry[]> {
  const due = at ?? (await storeNow(store))
  if (dueForDestruction((await store.read()).entries, due).length === 0) return []
  return store.change((ring, _, now) => {
    const done = applyChange(ring, { type: 'sweep' }, at ?? now)
    return { ring: done.ring, result: done.destroyed }
  })
}

/** What `revoke` did: the kid, when, and the new next key it staged for the curve, if any. */
export interface Revoked {
  kid: string
  notAfter: string
  next?: KeyEntry
}

/** How `revoke` stages a new next key (`keys revoke`): the publish delay, and a wait first. */
export interface NextKeyOptions {
  publishDelaySeconds: number
  /**
   * Milliseconds to wait after the revocation commits before the new key is made (`keys revoke`:
   * one KEYS_POLL_INTERVAL), so every instance has applied the revocation before its next reload
   * has a new sealed key to open: the revocation never waits on a key derivation.
   */
  afterMs?: number
}

/**
 * Revokes `kid` whatever else is wrong in the ring, in a change of its own, so nothing delays it.
 * Then, with `next`, when the revocation left the key's curve without a next key (its next key is
 * now its current one), a new next key is made where the revoked one was and staged, pending for
 * the delay, in a second change; a failure there leaves the revocation as it is. Without `next`,
 * nothing is added.
 */
export async function revokeInStore(
  store: KeyStore,
  kid: string,
  at?: Date,
  next?: NextKeyOptions,
): Promise<Revoked> {
  const { revoked, crv, inToken } = await store.change(
    (ring, _, storeNow) => {
      const now = at ?? storeNow
      const done = applyChange(ring, { type: 'revoke', kid }, now)
      const wanted = done.wantsNext
      const result = {
        revoked: { kid, notAfter: now.toISOString() },
        crv: wanted,
        inToken: wanted !== undefined && inTokenFor(ring, wanted, now),
      }
      return { ring: done.ring, result }
    },
    { revocation: true },
  )
  if (crv === undefined || next === undefined) return revoked
  try {
    if (next.afterMs) await new Promise((resolve) => setTimeout(resolve, next.afterMs))
    const staged = await stageNextKey(store, crv, next.publishDelaySeconds, inToken, at)
    return staged ? { ...revoked, next: staged } : revoked
  } catch {
    return revoked // the revocation stands; doctor names the curve without a next key
  }
}

/** A new next key of `crv`, pending for the delay, unless the curve has one by now. */
function stageNextKey(
  store: KeyStore,
  crv: KeyAlgorithm,
  publishDelaySeconds: number,
  inToken: boolean,
  at?: Date,
): Promise<KeyEntry | undefined> {
  return store.change(async (ring, material, storeNow) => {
    const now = at ?? storeNow
    if (!lacksNextKey(ring.entries, crv, now)) return { ring, result: undefined }
    const key = await newKey(material, ring, crv, inToken)
    const done = applyChange(
      ring,
      { type: 'generate', key, publishDelaySeconds, staged: true },
      now,
    )
    return { ring: done.ring, result: done.added[0] }
  })
}

/**
 * `keys authenticate`: writes a MAC for the ring as it is, after every sealed key it accepts
 * opened with the passphrase. For a ring from before the MAC, or after a custodian has checked
 * (list, doctor) what was changed outside the commands. Its new generation.
 */
export async function authenticateStore(store: KeyStore): Promise<number> {
  await store.change((ring) => ({ ring, result: undefined }), { authenticate: true })
  return (await store.read()).generation
}
