/** A ring key: what the ring says of it, and `agree` through its backend (never its private key). */
import { agreeWith, type Agreeing, type KeyAgreement } from './agreement.js'
import { inProcessFromJwk } from './in-process.js'
import type { Curve, PrivateJwk, PublicJwk } from '../jwk.js'
import type { KeyState } from '../stores/manifest.js'

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

/** A ring key for a private JWK the caller holds (published test vectors); key files go through loadKeyRing. */
export function ringKeyFromPrivateJwk(info: RingKeyInfo, jwk: PrivateJwk): RingKey {
  return ringKey(info, inProcessFromJwk(jwk, info.publicJwk, `key ${info.kid}`))
}
