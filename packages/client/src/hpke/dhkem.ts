import { x25519 } from '@noble/curves/ed25519.js'
import { p256 } from '@noble/curves/nist.js'
import { concatBytes } from '@noble/hashes/utils.js'
import { labeledExpand, labeledExtract } from './kdf.js'
import { KEM_P256_HKDF_SHA256, KEM_X25519_HKDF_SHA256, kemSuiteId, type KemId } from './suite.js'

const EMPTY = new Uint8Array(0)

/** The sender's half of a DH group: a fresh key, its public encoding, and DH(skE, pkR). */
interface SenderGroup {
  randomSecretKey(): Uint8Array
  /** SerializePublicKey(pk(sk)), RFC 9180 §7.1.1. */
  publicKey(secretKey: Uint8Array): Uint8Array
  dh(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array
}

const GROUPS: Record<KemId, SenderGroup> = {
  [KEM_X25519_HKDF_SHA256]: {
    randomSecretKey: () => x25519.utils.randomSecretKey(),
    publicKey: (sk) => x25519.getPublicKey(sk),
    dh(sk, pk) {
      // noble refuses the all-zero output of a small-order point (RFC 9180 §7.1.4); so do we.
      const shared = x25519.scalarMult(sk, pk)
      if (shared.every((b) => b === 0)) throw new Error('the key agreement gave all zeros')
      return shared
    },
  },
  [KEM_P256_HKDF_SHA256]: {
    randomSecretKey: () => p256.utils.randomSecretKey(),
    publicKey: (sk) => p256.getPublicKey(sk, false),
    // getSharedSecret checks the point is on the curve; RFC 9180 §7.1.1: DH is its x-coordinate.
    dh: (sk, pk) => p256.getSharedSecret(sk, pk, false).slice(1, 33),
  },
}

/**
 * RFC 9180 §4.1 Encap(pkR) for DHKEM(X25519 or P-256, HKDF-SHA256): (shared_secret, enc).
 * `ephemeralSecretKey` only for tests that replay a known ephemeral key.
 */
export function encap(
  kemId: KemId,
  recipientPublicKey: Uint8Array,
  ephemeralSecretKey?: Uint8Array,
): { sharedSecret: Uint8Array; enc: Uint8Array } {
  const group = GROUPS[kemId]
  const skE = ephemeralSecretKey ?? group.randomSecretKey()
  const dh = group.dh(skE, recipientPublicKey)
  const enc = group.publicKey(skE)
  const suiteId = kemSuiteId(kemId)
  const eaePrk = labeledExtract(suiteId, EMPTY, 'eae_prk', dh)
  const kemContext = concatBytes(enc, recipientPublicKey)
  const sharedSecret = labeledExpand(suiteId, eaePrk, 'shared_secret', kemContext, 32)
  dh.fill(0)
  if (!ephemeralSecretKey) skE.fill(0)
  return { sharedSecret, enc }
}
