import { createECDH, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto'
import { KeyStoreError } from './errors.js'
import { thumbprint, toPublicJwk, type Curve, type PrivateJwk, type PublicJwk } from './jwk.js'
import { isAccepted, readManifest, type KeyState } from './manifest.js'
import { readPrivateKeyFile, type KeyFileOptions } from './store.js'

export interface RingKey {
  readonly kid: string
  readonly crv: Curve
  readonly state: KeyState
  readonly created: string
  readonly notAfter: string | null
  /** The key's HPKE key id (manifest `hpkeKeyId`); a key without one opens JWE tokens only. */
  readonly hpkeKeyId?: number
  readonly publicJwk: PublicJwk
  /**
   * The private key as a node:crypto KeyObject, used only by diffieHellman. A KeyObject is not
   * opaque: `export()` returns the private scalar, and node will serialise it on request. The
   * gateway never exports a private KeyObject; the scalar was in JavaScript memory while the key
   * file was read, and a heap or core dump can reveal it.
   */
  readonly privateKey: KeyObject
}

/** An immutable set of gateway keys. A reload builds a new ring; nothing mutates one in place. */
export class KeyRing {
  readonly #byKid: ReadonlyMap<string, RingKey>
  readonly #byHpkeKeyId: ReadonlyMap<number, RingKey>

  constructor(keys: readonly RingKey[]) {
    this.#byKid = new Map(keys.map((k) => [k.kid, k]))
    this.#byHpkeKeyId = indexByHpkeKeyId([...this.#byKid.values()])
  }

  get keys(): readonly RingKey[] {
    return [...this.#byKid.values()]
  }

  get(kid: string): RingKey | undefined {
    return this.#byKid.get(kid)
  }

  /** The key an HPKE token names: exact match on the assigned id, never a prefix or a trial. */
  getByHpkeKeyId(id: number): RingKey | undefined {
    return this.#byHpkeKeyId.get(id)
  }

  /** Keys that decrypt tokens at `now`: active ones, and retiring ones before their notAfter. */
  accepts(key: RingKey, now: Date): boolean {
    return isAccepted(key, now)
  }

  /** Keys partners should encrypt to: the active ones. */
  active(): RingKey[] {
    return this.keys.filter((k) => k.state === 'active')
  }

  /** The public JWKS (RFC 7517 §5): active keys only, public members only. */
  jwks(): { keys: PublicJwk[] } {
    return { keys: this.active().map((k) => k.publicJwk) }
  }
}

/**
 * Keys by HPKE key id. A manifest never holds one id twice (parseManifest refuses it); a ring
 * assembled by hand might, and an id that names two keys then names none.
 */
function indexByHpkeKeyId(keys: readonly RingKey[]): ReadonlyMap<number, RingKey> {
  const byId = new Map<number, RingKey>()
  const ambiguous = new Set<number>()
  for (const key of keys) {
    if (key.hpkeKeyId === undefined) continue
    if (byId.has(key.hpkeKeyId)) ambiguous.add(key.hpkeKeyId)
    byId.set(key.hpkeKeyId, key)
  }
  for (const id of ambiguous) byId.delete(id)
  return byId
}

/** The public key of the private scalar itself, as JWK coordinates. */
function derivePublic(jwk: PrivateJwk, privateKey: KeyObject): { x?: string; y?: string } {
  if (jwk.crv === 'X25519') {
    // node builds an X25519 KeyObject from `d` alone, so its public half is derived from d.
    return createPublicKey(privateKey).export({ format: 'jwk' })
  }
  // A P-256 KeyObject keeps the JWK's x and y as they are (OpenSSL does not check them against
  // d), so derive d·G with ECDH instead.
  const point = createECDH('prime256v1')
  point.setPrivateKey(Buffer.from(jwk.d, 'base64url'))
  const uncompressed = point.getPublicKey()
  return {
    x: uncompressed.subarray(1, 33).toString('base64url'),
    y: uncompressed.subarray(33).toString('base64url'),
  }
}

/** Refuses a private JWK whose `d` is not the private key of its `x` (and `y`). */
function checkKeyPair(
  jwk: PrivateJwk,
  privateKey: KeyObject,
  publicJwk: PublicJwk,
  file: string,
): void {
  let derived: { x?: string; y?: string }
  try {
    derived = derivePublic(jwk, privateKey)
  } catch (cause) {
    throw new KeyStoreError('ERR_KEYS_FILE_INVALID', `${file}: not a usable key`, { cause })
  }
  if (derived.x !== publicJwk.x || derived.y !== publicJwk.y) {
    throw new KeyStoreError('ERR_KEYS_KID_MISMATCH', `${file}: d is not the private key of x/y`)
  }
}

/** Where request handlers get the ring from; a reloading source swaps the whole ring at once. */
export interface KeyRingSource {
  current(): KeyRing
}

export function staticKeyRing(ring: KeyRing): KeyRingSource {
  return { current: () => ring }
}

/** Loads every key the manifest lists, checking permissions and that each kid is its thumbprint. */
export async function loadKeyRing(dir: string, options: KeyFileOptions = {}): Promise<KeyRing> {
  const manifest = await readManifest(dir)
  const keys: RingKey[] = []
  for (const entry of manifest.keys) {
    const jwk = await readPrivateKeyFile(dir, entry, options)
    const publicJwk: PublicJwk = { ...toPublicJwk(jwk), hpke_key_id: entry.hpkeKeyId }
    if ((await thumbprint(publicJwk)) !== entry.kid) {
      throw new KeyStoreError('ERR_KEYS_KID_MISMATCH', `${entry.file}: kid is not its thumbprint`)
    }
    let privateKey: KeyObject
    try {
      privateKey = createPrivateKey({ key: { ...jwk }, format: 'jwk' })
    } catch (cause) {
      throw new KeyStoreError('ERR_KEYS_FILE_INVALID', `${entry.file}: not a usable key`, { cause })
    }
    checkKeyPair(jwk, privateKey, publicJwk, entry.file)
    keys.push({ ...entry, publicJwk, privateKey })
  }
  return new KeyRing(keys)
}
