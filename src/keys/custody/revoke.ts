import { KeyStoreError } from '../errors.js'
import type { KeyAlgorithm } from '../jwk.js'
import type { KeyEntry, Ring } from '../stores/key-store.js'
import { stateAt } from '../stores/manifest.js'
import { revokeKey } from './staging.js'

/**
 * After a revocation that leaves a curve with no published key (it had no next key), its staged key
 * (pending) is published at once: it arrives in the same ring as the revocation, so an instance that publishes
 * it also holds it, and instances that loaded the rotation accept it already. Partners of that
 * curve always have a key to encrypt to while one is staged.
 */
function promoteNext(entries: KeyEntry[], crv: KeyAlgorithm, now: Date): void {
  if (entries.some((e) => e.crv === crv && stateAt(e, now) === 'active')) return
  const next = entries.find((e) => e.crv === crv && stateAt(e, now) === 'pending')
  if (!next) return
  next.state = 'active'
  next.publishAt = null
}

/**
 * Revokes `kid` wherever the ring lists it: its entry, and any invalid stored entry with that kid
 * (a duplicate, a row whose times do not parse), so nothing else wrong in the ring blocks it.
 */
export function revoke<T>(
  entries: KeyEntry[],
  invalid: Ring['invalid'][number][],
  kid: string,
  now: Date,
  out: (added: KeyEntry[], retiring?: KeyEntry[][], changed?: KeyEntry) => T,
): T {
  const bad = invalid.filter((e) => e.kid === kid)
  for (const e of bad) {
    e.revoked = true
    e.revokedAt = now.toISOString()
  }
  if (entries.some((e) => e.kid === kid)) {
    const revoked = revokeKey(entries, kid, now)
    promoteNext(entries, revoked.crv, now)
    return out([], [], revoked)
  }
  if (bad.length === 0) throw new KeyStoreError('ERR_KEYS_UNKNOWN_KID', `no key with kid ${kid}`)
  return out([], [])
}
