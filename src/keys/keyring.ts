import { createPrivateKey, type KeyObject } from 'node:crypto'
import { KeyStoreError } from './errors.js'
import { thumbprint, toPublicJwk, type Curve, type PublicJwk } from './jwk.js'
import { isAccepted, readManifest, type KeyState } from './manifest.js'
import { readPrivateKeyFile, type KeyFileOptions } from './store.js'

export interface RingKey {
  readonly kid: string
  readonly crv: Curve
  readonly state: KeyState
  readonly created: string
  readonly notAfter: string | null
  readonly publicJwk: PublicJwk
  /** Opaque handle: node:crypto never serialises the private scalar of a KeyObject. */
  readonly privateKey: KeyObject
}

/** An immutable set of gateway keys. A reload builds a new ring; nothing mutates one in place. */
export class KeyRing {
  readonly #byKid: ReadonlyMap<string, RingKey>

  constructor(keys: readonly RingKey[]) {
    this.#byKid = new Map(keys.map((k) => [k.kid, k]))
  }

  get keys(): readonly RingKey[] {
    return [...this.#byKid.values()]
  }

  get(kid: string): RingKey | undefined {
    return this.#byKid.get(kid)
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
    const publicJwk = toPublicJwk(jwk)
    if ((await thumbprint(publicJwk)) !== entry.kid) {
      throw new KeyStoreError('ERR_KEYS_KID_MISMATCH', `${entry.file}: kid is not its thumbprint`)
    }
    let privateKey: KeyObject
    try {
      privateKey = createPrivateKey({ key: { ...jwk }, format: 'jwk' })
    } catch (cause) {
      throw new KeyStoreError('ERR_KEYS_FILE_INVALID', `${entry.file}: not a usable key`, { cause })
    }
    keys.push({ ...entry, publicJwk, privateKey })
  }
  return new KeyRing(keys)
}
