import { createHash } from 'node:crypto'
import { destructionFields, inKidOrder, lifecycleFields } from './entry-fields.js'
import type { InvalidEntry } from './invalid-entry.js'
import type { ManifestEntry } from './manifest.js'

/** What a ring version covers: every member that changes what a gateway accepts or publishes. */
type Versioned = Pick<
  ManifestEntry,
  | 'kid'
  | 'hpkeKeyId'
  | 'crv'
  | 'state'
  | 'created'
  | 'notAfter'
  | 'publishAt'
  | 'retireAt'
  | 'destroyAt'
  | 'destroyedAt'
>

/**
 * The ring version: one number for the ring's content, the same in every store and on every
 * instance that holds the same ring. The first 48 bits of SHA-256 over the entries in kid order
 * (a whole number below 2^53, so a Prometheus gauge and JSON carry it exactly); 0 is the empty
 * ring. Private keys are not hashed: the kid is the public key's RFC 7638 thumbprint.
 */
export function ringVersion(
  entries: readonly Versioned[],
  invalid: readonly InvalidEntry[] = [],
): number {
  if (entries.length === 0 && invalid.length === 0) return 0
  const canonical = inKidOrder(entries).map((e) => [...lifecycleFields(e), ...destructionFields(e)])
  // Entries left out count too (what they say, revoked or not), so fixing one reloads.
  const left = invalid.map((e) => [e.kid ?? null, e.why, e.revoked || e.revokedAt !== undefined])
  const digest = createHash('sha256')
    .update(JSON.stringify(left.length > 0 ? [canonical, left] : canonical))
    .digest()
  return digest.readUIntBE(0, 6) || 1
}
