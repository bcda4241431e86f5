import type { KeyAlgorithm } from '../jwk.js'
import { dirKeyStore } from '../stores/dir-store.js'
import type { KeyFileOptions } from '../stores/dir-files.js'
import type { KeyEntry } from '../stores/key-store.js'
import { retireInStore, revokeInStore, rotateKeys } from './custody.js'

/**
 * The one-host commands on a key directory, by path: the same changes as every store's
 * (custody.ts, change.ts), with a rotation published at once.
 */

export interface RotateResult {
  added: KeyEntry
  retiring: KeyEntry[]
}

/**
 * Adds a new active key of `crv`; every other active key of that curve becomes `retiring`,
 * still accepted until now + grace, so tokens made from a cached JWKS keep working.
 */
export async function rotate(
  dir: string,
  crv: KeyAlgorithm,
  graceSeconds: number,
  options: KeyFileOptions = {},
  now = new Date(),
): Promise<RotateResult> {
  const store = dirKeyStore(dir, options)
  const [staged] = await rotateKeys(store, {
    curves: [crv],
    graceSeconds,
    publishDelaySeconds: 0,
    now,
  })
  return staged!
}

/**
 * Retires a key: it is no longer published nor accepted. Refuses to retire the last active key
 * unless `force`, since partners would have nothing to encrypt to.
 */
export function retire(dir: string, kid: string, force = false): Promise<KeyEntry> {
  return retireInStore(dirKeyStore(dir), kid, force)
}

/** Revokes a key at once (the compromised-key path): rejected from the next request on. */
export async function revoke(dir: string, kid: string, now = new Date()): Promise<KeyEntry> {
  await revokeInStore(dirKeyStore(dir), kid, now)
  const store = dirKeyStore(dir)
  const { entries } = await store.read()
  return (
    entries.find((e) => e.kid === kid) ??
    ({ kid, state: 'revoked', notAfter: now.toISOString() } as KeyEntry)
  )
}
