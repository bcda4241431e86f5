/**
 * The members of a ring entry that the ring version (ring-version.ts) and the ring's MAC
 * (ring-mac.ts) both cover, in the order both encode them, with one spelling per instant
 * whichever store the date came from. test/keys/ring-encoding.test.ts pins both encodings.
 */

/** What both encodings read of an entry. */
export interface Encoded {
  kid: string
  hpkeKeyId: number | undefined
  crv: string
  state: string
  created: string
  notAfter: string | null
  publishAt?: string | null | undefined
  retireAt?: string | null | undefined
  destroyAt?: string | null | undefined
  destroyedAt?: string | null | undefined
}

/** An ISO 8601 UTC spelling of a date; a text that is not a date stays as it is. */
function iso(v: string | null | undefined): string | null {
  if (!v) return null
  const t = Date.parse(v)
  return Number.isNaN(t) ? v : new Date(t).toISOString()
}

/** Entries in kid order: the same ring encodes the same whatever order its store read it in. */
export function inKidOrder<E extends { kid: string }>(entries: readonly E[]): E[] {
  return [...entries].sort((a, b) => (a.kid < b.kid ? -1 : a.kid > b.kid ? 1 : 0))
}

/** The key and its lifecycle: kid, HPKE key id, curve, state and the four times. */
export function lifecycleFields(e: Encoded): unknown[] {
  return [
    e.kid,
    e.hpkeKeyId,
    e.crv,
    e.state,
    iso(e.created),
    iso(e.notAfter),
    iso(e.publishAt),
    iso(e.retireAt),
  ]
}

/** Destruction (a schedule, the destroyed time): only when set, so older encodings still hold. */
export function destructionFields(e: Encoded): unknown[] {
  return e.destroyAt || e.destroyedAt ? [iso(e.destroyAt), iso(e.destroyedAt)] : []
}
