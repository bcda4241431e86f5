import { KeyStoreError } from '../errors.js'
import type { KeyAlgorithm } from '../jwk.js'
import type { KeyEntry, NewKey, Ring } from '../stores/key-store.js'
import { lacksNextKey } from '../stores/key-role.js'
import { nextHpkeKeyId, stateAt } from '../stores/manifest.js'
import { destroyKey, scheduleDestroy, sweepDue } from './destroy.js'
import { revoke } from './revoke.js'
import { retireKey, settle, stageRotation } from './staging.js'

/**
 * Every custodian change of a ring, for every store: one pure function of the ring, the change
 * and the time. It never touches a store; the store writes the ring it returns, whole. The
 * new keys' HPKE key ids are allocated here and only here (one more than any id the ring has
 * ever listed, invalid entries included), so two new keys of one change never share one.
 */
export type Change =
  /** One key: active at once into a ring with no published key, else pending for the delay. */
  | {
      type: 'generate'
      key: NewKey
      publishDelaySeconds: number
      /** Pending for the delay even into a ring with no published key (a revocation's next key). */
      staged?: boolean
    }
  /** One new key per curve, each staged to replace that curve's active keys (staging.ts). */
  | { type: 'rotate'; keys: NewKey[]; graceSeconds: number; publishDelaySeconds: number }
  /** The development ring, into an empty ring only: every key active at once. */
  | { type: 'bootstrap'; keys: NewKey[] }
  /** Retires `kid`; with `destroyAfterSeconds`, records when a sweep is to destroy it. */
  | { type: 'retire'; kid: string; force?: boolean; destroyAfterSeconds?: number | undefined }
  /** Revokes `kid`; `Changed.wantsNext` names its curve when that leaves it without a next key. */
  | { type: 'revoke'; kid: string }
  /** Marks a retired or revoked key destroyed (destroy.ts); the store removes its material. */
  | { type: 'destroy'; kid: string }
  /** Destroys every retired or revoked key whose destroyAt has come. */
  | { type: 'sweep' }

export interface Changed {
  ring: Ring
  /** The new keys, as the ring lists them. */
  added: KeyEntry[]
  /** Per new key of a rotation, the keys it replaces (same order as `added`). */
  retiring: KeyEntry[][]
  /** The key a retire, revoke or destroy changed. */
  changed?: KeyEntry
  /** The keys a destroy or sweep marked destroyed in this change (a store removes their material). */
  destroyed: KeyEntry[]
  /** After a revocation of a published or pending key: its curve, when it has no next key now. */
  wantsNext?: KeyAlgorithm
}

const clone = (entries: readonly KeyEntry[]): KeyEntry[] => entries.map((e) => structuredClone(e))

/** The curves `rotate` without `--curve` renews: each with an active key, in order. */
export function activeCurves(ring: Ring, now: Date): KeyAlgorithm[] {
  return [
    ...new Set(ring.entries.filter((k) => stateAt(k, now) === 'active').map((k) => k.crv)),
  ].sort()
}

/** Whether a new key of `crv` belongs in the PKCS#11 token: where the curve's active key is. */
export function inTokenFor(ring: Ring, crv: KeyAlgorithm, now: Date): boolean {
  return ring.entries.some(
    (k) => k.crv === crv && k.backend === 'pkcs11' && stateAt(k, now) === 'active',
  )
}

export function applyChange(ring: Ring, change: Change, now: Date): Changed {
  const entries = clone(ring.entries)
  const invalid = ring.invalid.map((e) => ({ ...e }))
  settle(entries, now)
  const fresh = (key: NewKey): KeyEntry => {
    if ([...entries, ...invalid].some((e) => e.kid === key.kid)) {
      throw new KeyStoreError('ERR_KEYS_STATE', `the ring already lists ${key.kid}`)
    }
    const { kid, crv, ...where } = key
    const hpkeKeyId = nextHpkeKeyId([...entries, ...invalid])
    return {
      kid,
      hpkeKeyId,
      crv,
      state: 'active',
      created: now.toISOString(),
      notAfter: null,
      ...where,
    }
  }
  const out = (
    added: KeyEntry[],
    retiring: KeyEntry[][] = [],
    changed?: KeyEntry,
    destroyed: KeyEntry[] = [],
  ): Changed => ({
    ring: { entries, invalid },
    added,
    retiring,
    destroyed,
    ...(changed ? { changed } : {}),
  })
  switch (change.type) {
    case 'generate': {
      const added = fresh(change.key)
      const published = entries.some((k) => stateAt(k, now) === 'active')
      if ((published || change.staged === true) && change.publishDelaySeconds > 0) {
        added.state = 'pending'
        added.publishAt = new Date(now.getTime() + change.publishDelaySeconds * 1000).toISOString()
      }
      entries.push(added)
      return out([added])
    }
    case 'rotate': {
      if (change.keys.length === 0) {
        throw new KeyStoreError(
          'ERR_KEYS_NONE_ACTIVE',
          'no active key to rotate; use generate, or give --curve',
        )
      }
      const added: KeyEntry[] = []
      const retiring: KeyEntry[][] = []
      for (const key of change.keys) {
        const entry = fresh(key) // pushed by stageRotation before the next id is allocated
        retiring.push(stageRotation(entries, entry, { ...change, now }))
        added.push(entry)
      }
      return out(added, retiring)
    }
    case 'bootstrap': {
      if (entries.length + invalid.length > 0) return out([])
      const added = change.keys.map((key) => {
        const entry = fresh(key)
        entries.push(entry)
        return entry
      })
      return out(added)
    }
    case 'retire': {
      const retired = retireKey(entries, change.kid, now, change.force ?? false)
      if (change.destroyAfterSeconds === undefined) return out([], [], retired)
      const at = new Date(now.getTime() + change.destroyAfterSeconds * 1000)
      return out([], [], scheduleDestroy(entries, change.kid, at, now))
    }
    case 'revoke': {
      const was = entries.find((e) => e.kid === change.kid)
      const standing = was !== undefined && ['active', 'pending'].includes(stateAt(was, now))
      const done = revoke(entries, invalid, change.kid, now, out)
      if (!standing || !lacksNextKey(entries, was.crv, now)) return done
      return { ...done, wantsNext: was.crv }
    }
    case 'destroy': {
      const was = entries.find((e) => e.kid === change.kid)?.state
      const destroyed = destroyKey(entries, change.kid, now)
      return out([], [], destroyed, was === 'destroyed' ? [] : [destroyed])
    }
    case 'sweep':
      return out([], [], undefined, sweepDue(entries, now))
  }
}
