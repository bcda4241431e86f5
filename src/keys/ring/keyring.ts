import { agreeWith, type Agreeing, type KeyAgreement, type OpenedKey } from './agreement.js'
import { KeyStoreError } from '../errors.js'
import {
  hybridRingKey,
  openXWingKey,
  type HybridRingKey,
  type OpenedXWingKey,
} from './hybrid-key.js'
import { inProcessFromJwk } from './in-process.js'
import type { KeyEntry, StoredRing } from '../stores/key-store.js'
import { openHsmKey } from '../pkcs11/store.js'
import {
  algorithmOf,
  thumbprint,
  toPublicJwk,
  type Curve,
  type PrivateJwk,
  type PublicJwk,
  type StoredJwk,
  type XWingPublicJwk,
} from '../jwk.js'
import { isAccepted, readManifest, type KeyState } from '../stores/manifest.js'
import { readPrivateKeyFile, type KeyFileOptions } from '../stores/dir-files.js'
import { inPublishingOrder } from '../stores/key-role.js'

/** What the manifest and the published JWK say about a ring key. */
export interface RingKeyInfo {
  readonly kid: string
  readonly crv: Curve
  readonly state: KeyState
  readonly created: string
  readonly notAfter: string | null
  /** When a pending key is published (manifest `publishAt`). */
  readonly publishAt?: string | null
  /** When an active key with a pending successor stops being published (`retireAt`). */
  readonly retireAt?: string | null
  /** The key's HPKE key id (manifest `hpkeKeyId`); a key without one opens JWE tokens only. */
  readonly hpkeKeyId?: number
  readonly publicJwk: PublicJwk
}

/**
 * A gateway key as the rest of the gateway sees it: its public JWK and `agree`, never the private
 * key, which stays with its backend (agreement.ts) inside src/keys/.
 */
export interface RingKey extends RingKeyInfo, Agreeing {
  /** Where the private key lives. */
  readonly store: KeyAgreement['store']
  /** Whether its store can compute now (readiness); absent for a key in process. */
  available?(): Promise<boolean>
}

/** A ring key computing with `backend`: every `agree` goes through `agreeWith`'s checks. */
export function ringKey(info: RingKeyInfo, backend: KeyAgreement): RingKey {
  if (backend.crv !== info.crv) throw new TypeError('the backend is not on the key’s curve')
  return Object.freeze({
    ...info,
    store: backend.store,
    agree: (ephemeralPublicKey: Uint8Array) => agreeWith(backend, ephemeralPublicKey),
    ...(backend.available ? { available: backend.available.bind(backend) } : {}),
  })
}

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
  /** How the source's loads went, when it follows a store (readiness and metrics read it). */
  status?(): RingStatus
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
  /** Error codes of the last load; empty when it loaded everything. */
  errors: readonly string[]
}

export function staticKeyRing(ring: KeyRing): KeyRingSource {
  return { current: () => ring }
}

/**
 * Checks a private JWK against its entry — the kid must be the public key's RFC 7638 thumbprint,
 * and d the private key of x/y — and keeps it in an in-process backend. `where` names it.
 */
export async function openKey(
  entry: { kid: string; hpkeKeyId?: number | undefined },
  jwk: PrivateJwk,
  where: string,
): Promise<OpenedKey> {
  const publicJwk: PublicJwk = { ...toPublicJwk(jwk), hpke_key_id: entry.hpkeKeyId }
  if ((await thumbprint(publicJwk)) !== entry.kid) {
    throw new KeyStoreError('ERR_KEYS_KID_MISMATCH', `${where}: kid is not its thumbprint`)
  }
  return { publicJwk, backend: inProcessFromJwk(jwk, publicJwk, where) }
}

/**
 * Opens a key of a store's reading: a private JWK the store holds (checked by `openKey`), or a
 * key whose private half stays in a PKCS#11 token (`backend: 'pkcs11'`), which the token must
 * hold with the public key the kid names.
 */
export async function openStoredKey(
  stored: StoredRing,
  entry: KeyEntry,
): Promise<OpenedKey | OpenedXWingKey> {
  if (entry.backend === 'pkcs11') return openHsmKey(entry, stored.pkcs11)
  return openAnyKey(entry, await stored.privateKey(entry), entry.file ?? entry.kid)
}

/** `openKey` for a curve's key, `openXWingKey` for an X-Wing key (the entry says which). */
async function openAnyKey(
  entry: { kid: string; crv: string; hpkeKeyId?: number | undefined },
  jwk: StoredJwk,
  where: string,
): Promise<OpenedKey | OpenedXWingKey> {
  if (algorithmOf(jwk) !== entry.crv) {
    throw new KeyStoreError('ERR_KEYS_KID_MISMATCH', `${where}: the key is not a ${entry.crv} key`)
  }
  return jwk.kty === 'AKP' ? openXWingKey(entry.kid, jwk, where) : openKey(entry, jwk, where)
}

/** The manifest facts a ring key carries. */
type EntryFacts = Omit<RingKeyInfo, 'crv' | 'publicJwk'> & { crv: KeyEntry['crv'] }

/** Sorts opened keys into the ring's two kinds: ECDH keys (`agree`) and hybrid ones. */
export function placeKey(
  info: EntryFacts,
  opened: OpenedKey | OpenedXWingKey,
  keys: RingKey[],
  hybrid: HybridRingKey[],
): void {
  if ('decapsulator' in opened) {
    hybrid.push(hybridRingKey(info, opened))
    return
  }
  const { crv } = opened.backend
  keys.push(ringKey({ ...info, crv, publicJwk: opened.publicJwk }, opened.backend))
}

/** Loads every key the manifest lists, checking permissions and that each kid is its thumbprint. */
export async function loadKeyRing(dir: string, options: KeyFileOptions = {}): Promise<KeyRing> {
  const manifest = await readManifest(dir)
  const keys: RingKey[] = []
  const hybrid: HybridRingKey[] = []
  for (const entry of manifest.keys) {
    const jwk = await readPrivateKeyFile(dir, entry, options)
    const { kid, crv, state, created, notAfter, hpkeKeyId } = entry
    const info = { kid, crv, state, created, notAfter, hpkeKeyId }
    placeKey(info, await openAnyKey(entry, jwk, entry.file), keys, hybrid)
  }
  return new KeyRing(keys, hybrid)
}

/** A ring key for a private JWK the caller holds (published test vectors); key files go through loadKeyRing. */
export function ringKeyFromPrivateJwk(info: RingKeyInfo, jwk: PrivateJwk): RingKey {
  return ringKey(info, inProcessFromJwk(jwk, info.publicJwk, `key ${info.kid}`))
}

export type { OpenedKey } from './agreement.js'
