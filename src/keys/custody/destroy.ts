import { KeyStoreError } from '../errors.js'
import type { KeyEntry } from '../stores/key-store.js'
import { stateAt } from '../stores/manifest.js'

/**
 * Destruction, the last step of a key's life, as pure changes of a ring's entries (the stores
 * remove the private material of what these mark destroyed: the key file, the sealed value, the
 * token object). Only a key that no gateway accepts any more may go: a retired or revoked one.
 * Its entry stays, so its kid and hpkeKeyId are never reused and a token for it is refused as
 * for any unknown key. After it, every logged token for the key is noise (docs/ROTATION.md).
 */

const DESTROYABLE = new Set(['retired', 'revoked'])

function find(entries: readonly KeyEntry[], kid: string): KeyEntry {
  const entry = entries.find((k) => k.kid === kid)
  if (!entry) throw new KeyStoreError('ERR_KEYS_UNKNOWN_KID', `no key with kid ${kid}`)
  return entry
}

function refuse(kid: string, state: string): never {
  throw new KeyStoreError(
    'ERR_KEYS_STATE',
    `${kid} is ${state}: only a retired or revoked key can be destroyed (gateways still accept or publish it); retire it first, after its traffic has drained`,
  )
}

/** Marks `kid` destroyed now. A key destroyed already stays as it is (the call is idempotent). */
export function destroyKey(entries: KeyEntry[], kid: string, now: Date): KeyEntry {
  const entry = find(entries, kid)
  if (entry.state === 'destroyed') return entry
  const state = stateAt(entry, now)
  if (!DESTROYABLE.has(state)) refuse(kid, state)
  entry.state = 'destroyed'
  entry.destroyedAt = now.toISOString()
  entry.destroyAt = null
  return entry
}

/** Records when `kid` (retired or revoked) is due to be destroyed by `keys sweep`. */
export function scheduleDestroy(entries: KeyEntry[], kid: string, at: Date, now: Date): KeyEntry {
  const entry = find(entries, kid)
  const state = stateAt(entry, now)
  if (!DESTROYABLE.has(state)) refuse(kid, state)
  entry.destroyAt = at.toISOString()
  return entry
}

/** The retired or revoked keys whose destroyAt has come. */
export function dueForDestruction(entries: readonly KeyEntry[], now: Date): KeyEntry[] {
  return entries.filter(
    (k) =>
      DESTROYABLE.has(k.state) && k.destroyAt != null && new Date(k.destroyAt).getTime() <= +now,
  )
}

/** Destroys every key that is due; returns them (none: nothing changed). */
export function sweepDue(entries: KeyEntry[], now: Date): KeyEntry[] {
  return dueForDestruction(entries, now).map((k) => destroyKey(entries, k.kid, now))
}
