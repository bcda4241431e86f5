import { KeyStoreError } from '../errors.js'
import type { KeyEntry } from '../stores/key-store.js'
import { stateAt } from '../stores/manifest.js'

/**
 * Staged key changes on a ring's entries, the same for every store (the directory and
 * PostgreSQL): pure functions, so a store runs them inside its own transaction. The rule they
 * keep: no instance publishes a key that another healthy instance would refuse. A new key is
 * `pending` (accepted, not published) until `publishAt`; the store's followers reload within
 * one poll interval, so a publication delay longer than two intervals reaches every healthy
 * instance first (docs/ROTATION.md).
 */

const at = (now: Date, seconds: number) => new Date(now.getTime() + seconds * 1000).toISOString()

function find<E extends KeyEntry>(entries: readonly E[], kid: string): E {
  const entry = entries.find((k) => k.kid === kid)
  if (!entry) throw new KeyStoreError('ERR_KEYS_UNKNOWN_KID', `no key with kid ${kid}`)
  return entry
}

/**
 * Records what the clock has done: a pending key past its publishAt is active, an active key past
 * its retireAt is retiring. Changes nothing a gateway does (they read the same times); run first
 * by every change, so stored states stay simple.
 */
export function settle(entries: KeyEntry[], now: Date): void {
  for (const e of entries) {
    const state = stateAt(e, now)
    if (state === e.state) continue
    e.state = state
    e.publishAt = null
    e.retireAt = null
  }
}

export interface StageOptions {
  /** Seconds the previous key stays accepted after the new one is published. */
  graceSeconds: number
  /** Seconds until the new key is published; 0 publishes at once. */
  publishDelaySeconds: number
  now: Date
}

/**
 * Adds `added` (a new key of its curve) as pending until now + delay. The curve's current key (every
 * active key of the curve but its newest, the next key; or its only one) is published until then
 * and accepted for the grace period after: the next key becomes current, the new key the next one
 * (key-role.ts). Refuses while another rotation of the curve is staged: one pending key per curve.
 */
export function stageRotation<E extends KeyEntry>(
  entries: E[],
  added: E,
  options: StageOptions,
): E[] {
  const { now } = options
  const staged = entries.find((k) => k.crv === added.crv && stateAt(k, now) === 'pending')
  if (staged) {
    throw new KeyStoreError(
      'ERR_KEYS_STATE',
      `a ${added.crv} rotation is staged already: ${staged.kid} is published at ${staged.publishAt}`,
    )
  }
  // The curve's published keys but its newest: with a next key, the current one only, so the
  // next key becomes current when the new key is published (as the curve's next key).
  const published = entries
    .filter((k) => k.crv === added.crv && stateAt(k, now) === 'active')
    .sort((a, b) => a.hpkeKeyId - b.hpkeKeyId)
  const previous = published.length > 1 ? published.slice(0, -1) : published
  const publishAt = at(now, options.publishDelaySeconds)
  const notAfter = new Date(Date.parse(publishAt) + options.graceSeconds * 1000).toISOString()
  for (const k of previous) {
    k.notAfter = notAfter
    if (options.publishDelaySeconds > 0) {
      k.retireAt = publishAt
    } else {
      k.state = 'retiring'
      k.retireAt = null
    }
  }
  if (options.publishDelaySeconds > 0) {
    added.state = 'pending'
    added.publishAt = publishAt
  } else {
    added.state = 'active'
    added.publishAt = null
  }
  entries.push(added)
  return previous
}

/** A pending key leaves the ring: the keys it was to replace stay published, as before. */
function unstage(entries: KeyEntry[], pending: KeyEntry): void {
  for (const k of entries) {
    if (k.crv === pending.crv && k.state === 'active' && k.retireAt === pending.publishAt) {
      k.retireAt = null
      k.notAfter = null
    }
  }
}

/**
 * Retires a key: no longer published nor accepted. Refuses a revoked key, and the last published
 * key unless `force` (partners would have nothing to encrypt to). A pending key is withdrawn.
 */
export function retireKey<E extends KeyEntry>(
  entries: E[],
  kid: string,
  now: Date,
  force = false,
): E {
  const entry = find(entries, kid)
  const state = stateAt(entry, now)
  if (state === 'revoked' || state === 'destroyed') {
    throw new KeyStoreError('ERR_KEYS_STATE', `${kid} is ${state}; a ${state} key stays ${state}`)
  }
  const othersPublished = entries.some((k) => k.kid !== kid && stateAt(k, now) === 'active')
  if (state === 'active' && !othersPublished && !force) {
    throw new KeyStoreError(
      'ERR_KEYS_STATE',
      `${kid} is the only active key; rotate first, or pass --force to leave no active key`,
    )
  }
  if (state === 'pending') unstage(entries, entry)
  entry.state = 'retired'
  entry.notAfter = entry.notAfter ?? now.toISOString()
  entry.publishAt = null
  entry.retireAt = null
  return entry
}

/**
 * Revokes a key at once (the compromised-key path). A pending key is withdrawn; a destroyed key
 * is refused (its private key is gone: there is nothing left to compromise).
 */
export function revokeKey<E extends KeyEntry>(entries: E[], kid: string, now: Date): E {
  const entry = find(entries, kid)
  if (entry.state === 'destroyed') {
    throw new KeyStoreError(
      'ERR_KEYS_STATE',
      `${kid} is destroyed; a destroyed key stays destroyed`,
    )
  }
  if (stateAt(entry, now) === 'pending') unstage(entries, entry)
  entry.state = 'revoked'
  entry.notAfter = now.toISOString()
  entry.publishAt = null
  entry.retireAt = null
  return entry
}
