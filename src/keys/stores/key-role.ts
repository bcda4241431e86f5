import type { KeyAlgorithm } from '../jwk.js'
import { isPublished, stateAt, type ManifestEntry } from './manifest.js'

/**
 * The roles of a curve's published keys. The current key is the curve's oldest published key (the
 * lowest HPKE key id): the one partners encrypt to. Every other published key of the curve is a
 * next key: published and accepted by every instance, but not preferred, so that revoking the
 * current key leaves the curve a key every partner can fetch and every instance already accepts
 * (docs/ROTATION.md, "Emergency"). The JWKS lists each curve's current key before its next keys,
 * and partners' clients take the first key of their curve.
 */
export type KeyRole = 'current' | 'next'

type Ranked = Pick<ManifestEntry, 'state' | 'notAfter' | 'publishAt' | 'retireAt'> & {
  readonly crv: KeyAlgorithm
  readonly hpkeKeyId?: number
}

const rank = (k: Ranked): number => k.hpkeKeyId ?? Number.MAX_SAFE_INTEGER

/** The published keys at `now`: each curve's current key first, then the next keys, by id. */
export function inPublishingOrder<K extends Ranked>(keys: readonly K[], now: Date): K[] {
  const published = keys.filter((k) => isPublished(k, now)).sort((a, b) => rank(a) - rank(b))
  const current = new Set<KeyAlgorithm>()
  const first: K[] = []
  const rest: K[] = []
  for (const k of published) {
    if (current.has(k.crv)) rest.push(k)
    else {
      current.add(k.crv)
      first.push(k)
    }
  }
  return [...first, ...rest]
}

/** A key's role at `now`, or undefined for a key that is not published. */
export function roleAt<K extends Ranked>(
  keys: readonly K[],
  key: K,
  now: Date,
): KeyRole | undefined {
  if (!isPublished(key, now)) return undefined
  const first = inPublishingOrder(
    keys.filter((k) => k.crv === key.crv),
    now,
  )[0]
  return first === key ? 'current' : 'next'
}

/**
 * Whether `crv` lacks a next key at `now`: fewer than two keys of the curve are published or
 * staged (pending), so a revocation of its current key would leave it without a published key.
 */
export function lacksNextKey(keys: readonly Ranked[], crv: KeyAlgorithm, now: Date): boolean {
  const standing = keys.filter((k) => {
    const state = stateAt(k, now)
    return k.crv === crv && (state === 'active' || state === 'pending')
  })
  return standing.length < 2
}
