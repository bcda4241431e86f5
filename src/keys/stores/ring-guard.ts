import { KeyStoreError } from '../errors.js'
import type { InvalidEntry } from './invalid-entry.js'
import type { ChangeOptions, KeyEntry } from './key-store.js'
import {
  authenticateRing,
  authenticityError,
  verifyRing,
  type Authenticity,
  type RingAuth,
} from './ring-mac.js'

/** What a store read: the entries, the entries left out, and the ring's authentication. */
export interface ReadRing {
  entries: readonly KeyEntry[]
  invalid: readonly InvalidEntry[]
  auth?: RingAuth | undefined
}

/** The ring read by a gateway or a command, checked against the passphrase when there is one. */
export async function authenticity(
  passphrase: string | undefined,
  ring: ReadRing,
): Promise<Authenticity | 'not-required'> {
  if (passphrase === undefined) return 'not-required'
  if (!ring.auth && ring.entries.length + ring.invalid.length === 0) return 'authentic' // empty
  return verifyRing(passphrase, ring.auth, ring.entries, ring.invalid)
}

/**
 * Before a change: proves the passphrase against the ring found (its check value and MAC), so a
 * wrong passphrase changes nothing. 'mac': write the next generation with a new MAC; 'keep':
 * write the change (a revocation) under the old authentication, which then stays refused;
 * 'none': the store has no passphrase (a directory of keys in clear).
 */
export async function beforeChange(
  passphrase: string | undefined,
  ring: ReadRing,
  where: string,
  options: ChangeOptions,
  proveByOpening: () => Promise<void>,
): Promise<'mac' | 'keep' | 'none'> {
  const state = await authenticity(passphrase, ring)
  if (state === 'not-required') return 'none'
  if (state === 'authentic') return 'mac'
  if (state === 'wrong-passphrase') throw authenticityError(state, where)
  if (options.authenticate) {
    await proveByOpening()
    return 'mac'
  }
  if (options.revocation) return 'keep'
  throw authenticityError(state, where)
}

/** The authentication a change writes: the next generation and its MAC, or the old one kept. */
export async function afterChange(
  how: 'mac' | 'keep' | 'none',
  passphrase: string | undefined,
  previous: RingAuth | undefined,
  ring: ReadRing,
): Promise<RingAuth | undefined> {
  if (how === 'none') return undefined
  if (how === 'keep') return previous
  if (passphrase === undefined) throw new KeyStoreError('ERR_KEYS_PASSPHRASE', 'no passphrase')
  return authenticateRing(passphrase, previous, ring.entries, ring.invalid)
}
