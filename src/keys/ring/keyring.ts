/** The ring the gateway holds: its keys by kid and HPKE key id, what it publishes, and its source. */
import type { HybridRingKey } from './hybrid-key.js'
import type { RingKey } from './ring-key.js'
import { isAccepted } from '../stores/manifest.js'
import { inPublishingOrder } from '../stores/key-role.js'
import type { PublicJwk, XWingPublicJwk } from '../jwk.js'
import type { Freshness } from './staleness.js'

/** How a token names its key: the JWE `kid`, or the HPKE key id. */
export type KeyRef = { kid: string } | { hpkeKeyId: number }

/** The caller resolves the key; the key computes. Undefined for a key the ring does not hold. */
export type KeyResolver = (ref: KeyRef) => RingKey | undefined

/** A hybrid key by its HPKE key id; undefined for an id the ring does not hold. */
export type HybridKeyResolver = (hpkeKeyId: number) => HybridRingKey | undefined

/** An immutable set of gateway keys. A reload builds a new ring; nothing mutates one in place. */
export class KeyRing {
  readonly #byKid: ReadonlyMap<string, RingKey>
  readonly #byHpkeKeyId: ReadonlyMap<number, RingKey>
  readonly #hybrid: readonly HybridRingKey[]
  readonly #hybridById: ReadonlyMap<number, HybridRingKey>

  /** `hybrid`: X-Wing keys, which open HPKE tokens of their KEM only (no JWE, no `agree`). */
  constructor(keys: readonly RingKey[], hybrid: readonly HybridRingKey[] = []) {
    this.#byKid = new Map(keys.map((k) => [k.kid, k]))
    this.#hybrid = hybrid
    const byId = indexByHpkeKeyId([...this.#byKid.values(), ...hybrid])
    this.#byHpkeKeyId = new Map(
      [...byId].filter((e): e is [number, RingKey] => e[1].crv !== 'X-Wing'),
    )
    this.#hybridById = new Map(
      [...byId].filter((e): e is [number, HybridRingKey] => e[1].crv === 'X-Wing'),
    )
  }

  /** The ECDH keys (P-256, X25519). */
  get keys(): readonly RingKey[] {
    return [...this.#byKid.values()]
  }

  /** The hybrid (X-Wing) keys. */
  get hybridKeys(): readonly HybridRingKey[] {
    return this.#hybrid
  }

  /** The hybrid key an X-Wing HPKE token names: exact match on the assigned id. */
  readonly resolveHybrid: HybridKeyResolver = (id) => this.#hybridById.get(id)

  get(kid: string): RingKey | undefined {
    return this.#byKid.get(kid)
  }

  /** The key an HPKE token names: exact match on the assigned id, never a prefix or a trial. */
  getByHpkeKeyId(id: number): RingKey | undefined {
    return this.#byHpkeKeyId.get(id)
  }

  /** The ring as a resolver for `openToken`: exact lookups, never a prefix or a trial. */
  readonly resolve: KeyResolver = (ref) =>
    'kid' in ref ? this.get(ref.kid) : this.getByHpkeKeyId(ref.hpkeKeyId)

  /**
   * Keys that decrypt tokens at `now`: pending and active ones, and retiring ones before their
   * notAfter.
   */
  accepts(key: RingKey, now: Date): boolean {
    return isAccepted(key, now)
  }

  /**
   * Keys partners should encrypt to at `now`: the active ones (pending ones once published), each
   * curve's current key before its next keys (key-role.ts).
   */
  active(now = new Date()): RingKey[] {
    return inPublishingOrder(this.keys, now)
  }

  /** The public JWKS (RFC 7517 §5): active keys only, public members only. */
  jwks(now = new Date()): { keys: PublicJwk[] } {
    return { keys: this.active(now).map((k) => k.publicJwk) }
  }

  /** The JWKS the gateway serves: `jwks` and the published hybrid keys after them. */
  publishedJwks(now = new Date()): { keys: (PublicJwk | XWingPublicJwk)[] } {
    const hybrid = inPublishingOrder(this.#hybrid, now).map((k) => k.publicJwk)
    return { keys: [...this.jwks(now).keys, ...hybrid] }
  }
}

/**
 * Keys by HPKE key id. A manifest never holds one id twice (parseManifest refuses it); a ring
 * assembled by hand might, and an id that names two keys then names none.
 */
function indexByHpkeKeyId<T extends { hpkeKeyId?: number }>(
  keys: readonly T[],
): ReadonlyMap<number, T> {
  const byId = new Map<number, T>()
  const ambiguous = new Set<number>()
  for (const key of keys) {
    if (key.hpkeKeyId === undefined) continue
    if (byId.has(key.hpkeKeyId)) ambiguous.add(key.hpkeKeyId)
    byId.set(key.hpkeKeyId, key)
  }
  for (const id of ambiguous) byId.delete(id)
  return byId
}

/** Where request handlers get the ring from; a reloading source swaps the whole ring at once. */
export interface KeyRingSource {
  current(): KeyRing
  /** The version of the stored ring in place (ring-version.ts), when it comes from a store. */
  version?(): number
  /** The highest generation of the authenticated ring applied (ring-mac.ts), from a store. */
  generation?(): number
  /** How the source's loads went, when it follows a store (readiness and metrics read it). */
  status?(): RingStatus
  /**
   * Whether the ring may still decrypt, when it follows a store: 'fail-closed' once the store
   * has been read from no host for longer than KEYS_FAIL_CLOSED_AFTER (staleness.ts).
   */
  freshness?(): Freshness
}

/** How a following ring's loads went. */
export interface RingStatus {
  /** When a load last read the store and opened every key it accepts (undefined: never). */
  lastGoodLoad: Date | undefined
  /**
   * Since when the store could not be read: the ring in place may miss a change made since (a
   * revocation). Undefined while the ring follows the store.
   */
  staleSince: Date | undefined
  /**
   * When the store was last read (a refused reading counts: its revocations apply), or its
   * version found unchanged; staleness.ts judges it against KEYS_FAIL_CLOSED_AFTER.
   */
  lastRead?: Date | undefined
  /** Error codes of the last load; empty when it loaded everything. */
  errors: readonly string[]
  /** This host's clock minus the store's, in seconds, at the last poll (a store with a clock). */
  clockSkewSeconds?: number
}

export function staticKeyRing(ring: KeyRing): KeyRingSource {
  return { current: () => ring }
}
